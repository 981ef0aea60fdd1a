import Foundation
import Testing
import TestSupport

/// Sessions against a small website with a login (Tests/Interop/shop.py): every session's
/// requests carry that session's own cookie and token, and the site's log equals the report.
@Suite(.serialized) struct SessionBenchTests {
    func journey(_ base: String) throws -> String {
        try temporaryFile("journey.json", """
            [{"name": "login", "method": "POST", "url": "\(base)/login", "body": "user=ann"},
             {"name": "account", "url": "\(base)/account", "expect_status": [200]}]
            """)
    }

    /// Each pass through the list is a session: it logs in, and its account page carries the
    /// cookie that login set, never another session's (the jar is emptied between sessions).
    @Test func eachSessionCarriesItsOwnCookie() throws {
        let shop = try Shop()
        defer { shop.stop() }
        let run = try runCommand(stampedeBinary, ["bench", "--targets", try journey(shop.base), "--order", "sequence",
                                                  "-c", "4", "--requests", "400", "--json"], timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try jsonObject(run.stdout)
        #expect(report["requests"] as? Int == 400 && report["responses"] as? Int == 400)
        let errors = report["errors"] as? [String: Int] ?? [:]
        #expect(errors.values.reduce(0, +) == 0, "\(errors)")
        let lines = try shop.lines(expecting: 400)
        #expect(lines.count == 400)
        let logins = lines.filter { $0.path == "/login" }
        let accounts = lines.filter { $0.path == "/account" }
        // The budget is shared by the connections, so one may stop after a login: 196...200 sessions.
        #expect(logins.count + accounts.count == 400 && logins.count >= accounts.count && accounts.count >= 196)
        // The first login of each connection has no cookie; later logins carry none either
        // (a new session starts with an empty jar).
        #expect(logins.allSatisfy { $0.sid == "-" }, "\(logins.filter { $0.sid != "-" }.prefix(3))")
        #expect(accounts.allSatisfy { $0.status == 200 && $0.sid != "-" })
        // Every session's sid is used by exactly one account request: no session shares a cookie.
        #expect(Set(accounts.map(\.sid)).count == accounts.count)
    }

    /// A session cookie set without a Path and one set for the account page only: both go
    /// back with the account request (the default path and a path match are worked out from
    /// the request's target), every session with its own.
    @Test func cookiesWithoutAPathOrForOnePathGoWhereTheyApply() throws {
        let shop = try Shop()
        defer { shop.stop() }
        let targets = try temporaryFile("nopath.json", """
            [{"name": "login", "method": "POST", "url": "\(shop.base)/login?nopath", "body": "user=ann"},
             {"name": "account", "url": "\(shop.base)/account?seen", "expect_status": [200]}]
            """)
        let run = try runCommand(stampedeBinary, ["bench", "--targets", targets, "--order", "sequence", "-c", "2", "--requests", "40", "--json"],
                                 timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let errors = try jsonObject(run.stdout)["errors"] as? [String: Int] ?? [:]
        #expect(errors.values.reduce(0, +) == 0, "\(errors)")
        let accounts = try shop.lines(expecting: 40).filter { $0.path.hasPrefix("/account") }
        #expect(accounts.count >= 19 && accounts.allSatisfy { $0.status == 200 && $0.sid != "-" })
        #expect(Set(accounts.map(\.sid)).count == accounts.count)
    }

    /// `cookies: keep`: the jar outlives the session, so the next login already carries the
    /// previous session's cookie; `--cookies off` sends none and every account page is refused.
    @Test func keepAndOff() throws {
        let shop = try Shop()
        defer { shop.stop() }
        let kept = try runCommand(stampedeBinary, ["bench", "--targets", try journey(shop.base), "--order", "sequence",
                                                   "-c", "2", "--requests", "40", "--cookies", "keep", "--json"], timeout: 120)
        #expect(kept.status == 0, "\(kept.stderr)")
        let keptLines = try shop.lines(expecting: 40)
        let logins = keptLines.filter { $0.path == "/login" }
        // All but each connection's first login carry the cookie of the session before.
        #expect(logins.count >= 20 && logins.filter { $0.sid != "-" }.count == logins.count - 2, "\(logins.map(\.sid))")

        let off = try runCommand(stampedeBinary, ["bench", "--targets", try journey(shop.base), "--order", "sequence",
                                                  "-c", "2", "--requests", "40", "--cookies", "off", "--json"], timeout: 120)
        let report = try jsonObject(off.stdout)
        let errors = report["errors"] as? [String: Int] ?? [:]
        let offLines = Array(try shop.lines(expecting: 80).dropFirst(40))
        let refused = offLines.filter { $0.path == "/account" && $0.status == 401 }.count
        #expect(refused >= 19 && errors["check"] == refused, "\(errors)")
        #expect(offLines.allSatisfy { $0.sid == "-" })

        let bad = try runCommand(stampedeBinary, ["bench", shop.base + "/", "--cookies", "sometimes", "--requests", "1"], timeout: 30)
        #expect(bad.status == 2 && bad.stderr.contains("--cookies"), "\(bad.stderr)")
    }

    func shopping(_ base: String, accountCapture: String = #"{"csrf": {"json": "csrf"}}"#, account: String = "/account",
                  think: String = "") throws -> String {
        try temporaryFile("shopping.json", """
            [{"name": "login", "method": "POST", "url": "\(base)/login", "body": "user=ann"\(think)},
             {"name": "account", "url": "\(base)\(account)", "expect_status": [200], "capture": \(accountCapture)},
             {"name": "cart", "method": "POST", "url": "\(base)/cart", "headers": {"X-CSRF": "{{var.csrf}}"},
              "body": "{\\"item\\": 1}", "expect_status": [200]}]
            """)
    }

    /// A token captured from one response (JSON, also gzip-encoded) goes into the next request's
    /// header: the site accepts every cart, so each carried its own session's token.
    @Test func aCapturedTokenReachesTheNextRequest() throws {
        let shop = try Shop()
        defer { shop.stop() }
        for (k, account) in ["/account", "/account?gzip=1"].enumerated() {
            let run = try runCommand(stampedeBinary, ["bench", "--targets", try shopping(shop.base, account: account), "--order", "sequence",
                                                      "-c", "4", "--requests", "300", "--json"], timeout: 120)
            #expect(run.status == 0, "\(run.stderr)")
            let report = try jsonObject(run.stdout)
            let errors = report["errors"] as? [String: Int] ?? [:]
            #expect(report["requests"] as? Int == 300 && errors.values.reduce(0, +) == 0, "\(account): \(errors)")
            let lines = Array(try shop.lines(expecting: 300 * (k + 1)).dropFirst(300 * k))
            #expect(lines.count == 300)
            let carts = lines.filter { $0.path == "/cart" }
            #expect(carts.count >= 96 && carts.allSatisfy { $0.status == 200 && $0.csrf != "-" }, "\(account)")
            #expect(Set(carts.map(\.csrf)).count == carts.count)
        }
    }

    /// A capture that finds nothing (no default) fails its session: counted in errors.capture,
    /// the session's later request is never sent, and the next session starts with a login.
    @Test func aFailedCaptureEndsTheSession() throws {
        let shop = try Shop()
        defer { shop.stop() }
        let targets = try shopping(shop.base, accountCapture: #"{"csrf": {"json": "missing.key"}}"#)
        let run = try runCommand(stampedeBinary, ["bench", "--targets", targets, "--order", "sequence", "-c", "2", "--requests", "100", "--json"],
                                 timeout: 120)
        let report = try jsonObject(run.stdout)
        let errors = report["errors"] as? [String: Int] ?? [:]
        let lines = try shop.lines(expecting: 100)
        let accounts = lines.filter { $0.path == "/account" }.count
        #expect(lines.count == 100 && !lines.contains { $0.path == "/cart" })
        #expect(accounts >= 49 && errors["capture"] == accounts && errors.values.reduce(0, +) == accounts, "\(errors)")
        let byName = report["by_name"] as? [String: [String: Any]] ?? [:]
        #expect((byName["account"]?["errors"] as? [String: Int])?["capture"] == accounts)
        #expect(byName["cart"] == nil || byName["cart"]?["requests"] as? Int == 0)
        #expect((report["first_error"] as? String)?.contains("capture 'csrf' of account") == true, "\(report["first_error"] ?? "")")
    }

    /// Think time spaces a session's requests and is never part of a latency.
    @Test func thinkTimeIsBetweenRequestsNotInThem() throws {
        let shop = try Shop()
        defer { shop.stop() }
        let run = try runCommand(stampedeBinary, ["bench", "--targets", try shopping(shop.base, think: #", "think_ms": 300"#),
                                                  "--order", "sequence", "-c", "1", "--requests", "9", "--json"], timeout: 120)
        let report = try jsonObject(run.stdout)
        #expect(report["responses"] as? Int == 9, "\(run.stderr)")
        // Three sessions, each pausing 300 ms after its login.
        #expect((report["duration_s"] as? Double ?? 0) >= 0.9)
        let latency = report["latency_us"] as? [String: Any] ?? [:]
        #expect((latency["max"] as? Int ?? .max) < 250_000, "\(latency)")
        // Without sessions (a random mix), --think-ms still pauses after every response: 4 requests, 4 pauses of 200 ms.
        let mixed = try runCommand(stampedeBinary, ["bench", shop.base + "/hop/0", "--think-ms", "200", "-c", "1", "--requests", "4", "--json"],
                                   timeout: 60)
        let mixedReport = try jsonObject(mixed.stdout)
        #expect(mixedReport["responses"] as? Int == 4 && (mixedReport["duration_s"] as? Double ?? 0) >= 0.6, "\(mixedReport["duration_s"] ?? "-")")
    }

    /// Bad session input stops before any load: exit 2, naming the flag or the file entry.
    @Test func badSessionInputExitsTwoNamingTheFlagAndEntry() throws {
        let url = "http://127.0.0.1:9/"
        let unknownVar = try temporaryFile("s1.json", #"[{"url": "\#(url)a"}, {"url": "\#(url)b", "headers": {"X-CSRF": "{{var.csrf}}"}}]"#)
        let badKind = try temporaryFile("s2.json", #"[{"url": "\#(url)a", "capture": {"t": {"css": "div.token"}}}]"#)
        let cases: [(arguments: [String], expected: [String])] = [
            (["--targets", unknownVar, "--order", "sequence"], ["--targets", "requests[1]", "headers", "var.csrf", "no earlier request"]),
            (["--targets", badKind, "--order", "sequence"], ["--targets", "requests[0].capture.t.css", "unknown capture kind"]),
            ([url, "--think-ms", "300-100"], ["--think-ms", "MIN must not exceed MAX"]),
            ([url, "--think-ms", "soon"], ["--think-ms"]),
            ([url, "--capture-bytes", "0"], ["--capture-bytes", "1...16777216"]),
            ([url, "--think-ms", "5", "--mode", "tsunami", "--rate", "10"], ["--think-ms", "tsunami"]),
            ([url, "--follow-redirects", "21"], ["--follow-redirects", "0...20"]),
            ([url, "--order", "sequence", "--session-rate", "10"], ["--session-rate", "tsunami"]),
            ([url, "--mode", "tsunami", "--session-rate", "10"], ["--session-rate", "order: sequence"]),
            ([url, "--order", "sequence", "--mode", "tsunami", "--session-rate", "10", "--rate", "5"], ["--session-rate", "not both"]),
            ([url, "--order", "sequence", "--mode", "tsunami", "--session-rate", "on"], ["--session-rate", "--stage"]),
            ([url, "--threshold", "session_p99_ms=100"], ["--threshold", "session_p99_ms", "order: sequence"]),
            ([url + "?s={{session}}"], ["URL", "{{session}}", "--order sequence"]),
        ]
        for c in cases {
            let run = try runCommand(stampedeBinary, ["bench"] + c.arguments + ["--dry-run"])
            #expect(run.status == 2, "\(c.arguments): \(run.stdout) \(run.stderr)")
            for piece in c.expected { #expect(run.stderr.contains(piece), "\(c.arguments): \(run.stderr)") }
        }
    }
}
