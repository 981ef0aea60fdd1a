import Foundation
import Testing
import TestSupport

/// Sessions as users' visits against the shop (Tests/Interop/shop.py): counted and timed in the
/// report, redirects followed hop by hop, and the open model (`--session-rate`) timing each
/// session from its intended arrival.
@Suite(.serialized) struct SessionJourneyTests {
    /// login (POST, answered 302 to /account), account (captures the token), cart (sends it).
    func shopping(_ base: String, login: String = "", think: String = "") throws -> String {
        try temporaryFile("visit.json", """
            [{"name": "login", "method": "POST", "url": "\(base)/login", "body": "user={{session}}"\(login)},
             {"name": "account", "url": "\(base)/account", "expect_status": [200], "capture": {"csrf": {"json": "csrf"}}\(think)},
             {"name": "cart", "method": "POST", "url": "\(base)/cart", "headers": {"X-CSRF": "{{var.csrf}}"},
              "body": "{\\"item\\": {{session}}}", "expect_status": [200]}]
            """)
    }

    func sessions(_ report: [String: Any]) throws -> [String: Any] { try #require(report["sessions"] as? [String: Any]) }

    /// Every pass is a session: the report's counts equal the site's log (a login starts one, a
    /// cart ends it), each ended one way, and its durations come with a histogram per second.
    @Test func sessionsAreCountedAsTheSiteSawThem() throws {
        let shop = try Shop()
        defer { shop.stop() }
        let hlog = FileManager.default.temporaryDirectory.appendingPathComponent("sessions-\(UUID().uuidString).hlog").path
        let run = try runCommand(stampedeBinary, ["bench", "--targets", try shopping(shop.base), "--order", "sequence",
                                                  "-c", "4", "--requests", "301", "--hlog", hlog, "--json"], timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try jsonObject(run.stdout)
        let s = try sessions(report)
        let lines = try shop.lines(expecting: 301)
        #expect(lines.count == 301 && report["requests"] as? Int == 301)
        let logins = lines.filter { $0.path == "/login" }.count, carts = lines.filter { $0.path == "/cart" && $0.status == 200 }.count
        #expect(s["started"] as? Int == logins && s["completed"] as? Int == carts, "\(s)")
        // 301 is not a multiple of 3: the budget ends some sessions part-way (interrupted, not failed).
        let started = s["started"] as? Int ?? 0, completed = s["completed"] as? Int ?? 0
        #expect(started == completed + (s["failed_total"] as? Int ?? -1) + (s["interrupted"] as? Int ?? -1))
        #expect((s["interrupted"] as? Int ?? 0) >= 1 && s["failed_total"] as? Int == 0)
        let duration = try #require(s["duration_us"] as? [String: Any])
        #expect((duration["min"] as? Int ?? 0) > 0 && (duration["max"] as? Int ?? 0) >= (duration["p50"] as? Int ?? .max))
        // {{session}} numbers each session once: every cart's body is a different session.
        #expect(Set(lines.filter { $0.path == "/cart" }.map(\.csrf)).count == carts)
        let log = try String(contentsOfFile: hlog, encoding: .utf8)
        #expect(log.contains("Tag=session,"), "\(log.prefix(400))")
    }

    /// A redirect is followed as its own request: the login's 302 brings GET /account, counted as
    /// `login redirect`, carrying the cookie the 302 set; the token captured from it reaches the
    /// cart. The site's log equals the counts, hop by hop.
    @Test func redirectHopsAreRequestsOfTheirOwn() throws {
        let shop = try Shop()
        defer { shop.stop() }
        let visit = try temporaryFile("hop.json", """
            [{"name": "login", "method": "POST", "url": "\(shop.base)/login", "body": "u=1", "capture": {"csrf": {"json": "csrf"}},
              "expect_status": [200]},
             {"name": "cart", "method": "POST", "url": "\(shop.base)/cart", "headers": {"X-CSRF": "{{var.csrf}}"}, "expect_status": [200]}]
            """)
        let run = try runCommand(stampedeBinary, ["bench", "--targets", visit, "--order", "sequence", "--follow-redirects", "1",
                                                  "-c", "3", "--requests", "300", "--json"], timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try jsonObject(run.stdout)
        let lines = try shop.lines(expecting: 300)
        #expect(lines.count == 300 && report["responses"] as? Int == 300)
        let errors = report["errors"] as? [String: Int] ?? [:]
        #expect(errors.values.reduce(0, +) == 0, "\(errors)")
        let byName = report["by_name"] as? [String: [String: Any]] ?? [:]
        let hops = lines.filter { $0.method == "GET" && $0.path == "/account" }
        #expect(byName["login redirect"]?["requests"] as? Int == hops.count && hops.count >= 99)
        #expect(byName["login"]?["requests"] as? Int == lines.filter { $0.path == "/login" }.count)
        #expect(hops.allSatisfy { $0.status == 200 && $0.sid != "-" })
        #expect(lines.filter { $0.path == "/cart" }.allSatisfy { $0.status == 200 && $0.csrf != "-" })
        #expect((report["status_codes"] as? [String: Int])?["302"] == lines.filter { $0.status == 302 }.count)

        // /hop/3 needs three hops: two allowed leave a redirect, counted in errors.redirects.
        let chain = try temporaryFile("chain.json", #"[{"name": "chain", "url": "\#(shop.base)/hop/3"}]"#)
        let short = try runCommand(stampedeBinary, ["bench", "--targets", chain, "--order", "sequence", "--follow-redirects", "2",
                                                    "-c", "1", "--requests", "6", "--json"], timeout: 60)
        let shortReport = try jsonObject(short.stdout)
        let chainLines = Array(try shop.lines(expecting: 306).dropFirst(300))
        #expect(chainLines.map(\.path) == ["/hop/3", "/hop/2", "/hop/1", "/hop/3", "/hop/2", "/hop/1"], "\(chainLines.map(\.path))")
        #expect((shortReport["errors"] as? [String: Int])?["redirects"] == 2)
        let failed = try sessions(shortReport)["failed"] as? [String: [String: Int]]
        #expect(failed?["chain redirect"]?["redirects"] == 2, "\(failed ?? [:])")
    }

    /// The open model: sessions arrive at 20/s whatever the site does. When it stalls for 1 s,
    /// arrivals wait for a free connection, and the session durations, timed from the intended
    /// arrival, show the stall (p99 >= 900 ms) while the service time stays small. Exactly
    /// rate × duration sessions arrive: each started or dropped, none skipped.
    @Test func aStallShowsInSessionsFromTheirIntendedArrival() throws {
        let shop = try Shop(stall: (atS: 1.5, ms: 1_000))
        defer { shop.stop() }
        let run = try runCommand(stampedeBinary, ["bench", "--targets", try shopping(shop.base), "--order", "sequence",
                                                  "--mode", "tsunami", "--session-rate", "20", "-c", "3", "-d", "4s", "--json"], timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try jsonObject(run.stdout)
        let s = try sessions(report)
        let started = s["started"] as? Int ?? 0
        #expect(started + (s["dropped"] as? Int ?? 0) == 80, "\(s)")
        #expect(started == (s["completed"] as? Int ?? 0) + (s["failed_total"] as? Int ?? 0) + (s["interrupted"] as? Int ?? 0))
        let duration = try #require(s["duration_us"] as? [String: Any])
        #expect((duration["p99"] as? Int ?? 0) >= 900_000, "\(duration)")
        let delay = try #require(s["start_delay_us"] as? [String: Any])
        #expect((delay["max"] as? Int ?? 0) >= 300_000, "\(delay)")
        let service = try #require(report["service_time_us"] as? [String: Any])
        #expect((service["p50"] as? Int ?? .max) < 50_000, "\(service)")
        let lines = try shop.lines(expecting: report["requests"] as? Int ?? 0)
        #expect(lines.count == report["requests"] as? Int)
        #expect(lines.filter { $0.path == "/login" }.count == started)
    }

    /// An arrival that finds no free connection within the timeout is dropped and counted; a
    /// request that outlives the timeout fails its session at that step.
    @Test func arrivalsThatCannotStartAreDroppedNotSkipped() throws {
        let shop = try Shop(stall: (atS: 1.0, ms: 1_500))
        defer { shop.stop() }
        let run = try runCommand(stampedeBinary, ["bench", "--targets", try shopping(shop.base), "--order", "sequence",
                                                  "--mode", "tsunami", "--session-rate", "20", "-c", "1", "-d", "3s",
                                                  "--timeout-ms", "400", "--json"], timeout: 120)
        let report = try jsonObject(run.stdout)
        let s = try sessions(report)
        let started = s["started"] as? Int ?? 0, dropped = s["dropped"] as? Int ?? 0
        #expect(started + dropped == 60 && dropped > 0, "\(s)")
        let failed = s["failed"] as? [String: [String: Int]] ?? [:]
        #expect(failed.values.contains { ($0["timeout"] ?? 0) > 0 }, "\(failed)")
        #expect((report["errors"] as? [String: Int])?["timeout"] == failed.values.map { $0["timeout"] ?? 0 }.reduce(0, +))
    }

    /// `expect_body` reads a gzip-encoded body decoded: the token's key is found in the account
    /// page that comes gzip-encoded, and a text it does not hold fails every check.
    @Test func expectBodyReadsAGzipBodyDecoded() throws {
        let shop = try Shop()
        defer { shop.stop() }
        for (expected, passes) in [(#"\"csrf\": "#, true), ("no such text", false)] {
            let visit = try temporaryFile("gzip.json", """
                [{"name": "login", "method": "POST", "url": "\(shop.base)/login", "expect_status": [302]},
                 {"name": "account", "url": "\(shop.base)/account?gzip=1", "expect_status": [200], "expect_body": "\(expected)"}]
                """)
            let run = try runCommand(stampedeBinary, ["bench", "--targets", visit, "--order", "sequence", "-c", "2", "--requests", "40", "--json"],
                                     timeout: 60)
            let report = try jsonObject(run.stdout)
            let account = (report["by_name"] as? [String: [String: Any]])?["account"]
            let checks = (account?["errors"] as? [String: Int])?["check"] ?? -1
            // The budget is shared by the connections: one may stop after a login.
            let pages = account?["responses"] as? Int ?? 0
            #expect(pages >= 19)
            #expect(checks == (passes ? 0 : pages), "\(expected): \(checks) check failures of \(pages)")
        }
    }
}
