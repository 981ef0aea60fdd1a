import Foundation
import Testing
import TestSupport

/// Cookies against a small website with a login (Tests/Interop/shop.py): every session's
/// requests carry that session's own cookie, and the site's log equals the report.
@Suite(.serialized) struct CookieBenchTests {
    struct Shop {
        let server: ServerProcess
        let log: URL
        var base: String { "http://127.0.0.1:\(server.port)" }

        init() throws {
            log = FileManager.default.temporaryDirectory.appendingPathComponent("shop-\(UUID().uuidString).log")
            let port = freePort()
            server = try ServerProcess(repositoryRoot.appendingPathComponent(".venv/bin/python"),
                                       [repositoryRoot.appendingPathComponent("Tests/Interop/shop.py").path, String(port), log.path], port: port)
        }

        /// The log's lines as (method, path, status, sid).
        func lines(expecting count: Int) throws -> [(method: String, path: String, status: Int, sid: String)] {
            var text = ""
            for _ in 0..<100 {
                text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                if text.split(separator: "\n").count >= count { break }
                usleep(50_000)
            }
            return text.split(separator: "\n").map { line in
                let f = line.split(separator: " ")
                return (String(f[0]), String(f[1]), Int(f[2]) ?? 0, String(f[3].dropFirst(4)))
            }
        }
    }

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
        defer { shop.server.stop() }
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
        #expect(logins.count == 200 && accounts.count == 200)
        // The first login of each connection has no cookie; later logins carry none either
        // (a new session starts with an empty jar).
        #expect(logins.allSatisfy { $0.sid == "-" }, "\(logins.filter { $0.sid != "-" }.prefix(3))")
        #expect(accounts.allSatisfy { $0.status == 200 && $0.sid != "-" })
        // Every session's sid is used by exactly one account request: no session shares a cookie.
        #expect(Set(accounts.map(\.sid)).count == 200)
    }

    /// `cookies: keep`: the jar outlives the session, so the next login already carries the
    /// previous session's cookie; `--cookies off` sends none and every account page is refused.
    @Test func keepAndOff() throws {
        let shop = try Shop()
        defer { shop.server.stop() }
        let kept = try runCommand(stampedeBinary, ["bench", "--targets", try journey(shop.base), "--order", "sequence",
                                                   "-c", "2", "--requests", "40", "--cookies", "keep", "--json"], timeout: 120)
        #expect(kept.status == 0, "\(kept.stderr)")
        let keptLines = try shop.lines(expecting: 40)
        let logins = keptLines.filter { $0.path == "/login" }
        #expect(logins.count == 20 && logins.filter { $0.sid != "-" }.count == 18, "\(logins.map(\.sid))")

        let off = try runCommand(stampedeBinary, ["bench", "--targets", try journey(shop.base), "--order", "sequence",
                                                  "-c", "2", "--requests", "40", "--cookies", "off", "--json"], timeout: 120)
        let report = try jsonObject(off.stdout)
        let errors = report["errors"] as? [String: Int] ?? [:]
        #expect(errors["check"] == 20, "\(errors)")
        let offLines = Array(try shop.lines(expecting: 80).dropFirst(40))
        #expect(offLines.filter { $0.path == "/account" && $0.status == 401 }.count == 20)
        #expect(offLines.allSatisfy { $0.sid == "-" })

        let bad = try runCommand(stampedeBinary, ["bench", shop.base + "/", "--cookies", "sometimes", "--requests", "1"], timeout: 30)
        #expect(bad.status == 2 && bad.stderr.contains("--cookies"), "\(bad.stderr)")
    }
}
