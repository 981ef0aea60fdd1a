import Foundation
import Testing
import TestSupport

/// HAR files recorded by a real browser (Playwright driving Debian's Chromium) against real sites,
/// imported with no hand edit, verified, and run as 50 users.
@Suite(.serialized) struct RecordedSiteTests {
    func stampede(_ arguments: [String], timeout: Double = 120) throws -> CommandResult {
        try runCommand(stampedeBinary, arguments, timeout: timeout)
    }

    func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)")
    }

    func report(_ result: CommandResult) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stderr)")
    }

    /// Django's login (a masked csrfmiddlewaretoken per render, rotated at login) and a form after it.
    @Test func aDjangoLoginRecordedInChromiumRunsAsFiftyUsers() throws {
        let site = try NotesSite(users: 60)
        defer { site.stop() }
        let har = try recordHAR(flow: "notes", base: site.base, user: "user60", password: "pw-user60")
        let journey = temporary("notes.json"), recorded = temporary("recorded.csv")
        let imported = try stampede(["import", "har", har.path, "--data-fields", "username,password", "--data-out", recorded.path, "--verify"])
        #expect(imported.status == 0, "\(imported.stderr)")
        try Data(imported.stdout.utf8).write(to: journey)
        #expect(imported.stderr.contains("3 of 3 steps match; the session completed"))
        #expect(imported.stderr.contains("csrfmiddlewaretoken_2"))
        #expect(imported.stderr.contains("static (stylesheet)"))
        let header = try String(contentsOf: recorded, encoding: .utf8).split(separator: "\n")
        #expect(header == ["username,password", "user60,pw-user60"])

        let before = site.logins.count  // the recording's and the verify's
        #expect(before == 2)
        let users = temporary("users.csv")
        try Data((String(header[0]) + "\n" + (1...50).map { "user\($0),pw-user\($0)" }.joined(separator: "\n") + "\n").utf8).write(to: users)
        let run = try stampede(["bench", "--targets", journey.path, "--order", "sequence", "--follow-redirects", "1", "--data", users.path,
                                "-c", "5", "--sessions", "50", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let r = try report(run)
        let sessions = try #require(r["sessions"] as? [String: Any])
        #expect(sessions["completed"] as? Int == 50)
        #expect(sessions["failed_total"] as? Int == 0)
        let byName = try #require(r["by_name"] as? [String: [String: Any]])
        let loginCodes = byName["POST /login/"]?["status_codes"] as? [String: Int]
        #expect(loginCodes == ["302": 50])

        // Each user logged in once, as themselves, and added the note with their own session.
        let logins = Array(site.logins.dropFirst(before))
        #expect(logins.count == 50)
        #expect(Set(logins.map(\.user)) == Set((1...50).map { "user\($0)" }))
        #expect(Set(logins.map(\.session)).count == 50)
        let notes = site.lines.filter { $0.hasPrefix("POST /notes/ 302") }.dropFirst(before)
        let posted = Set(notes.map { line in
            let f = line.split(separator: " ")
            return NotesSite.Login(user: String(f[3].dropFirst(5)), session: String(f[4].dropFirst(8)))
        })
        #expect(posted == Set(logins))
        #expect(!site.lines.contains { $0.contains(" 403 ") })

        // The whole test form validates as it is.
        let config = try stampede(["import", "har", har.path, "--config", "--data-fields", "username,password"])
        #expect(config.status == 0, "\(config.stderr)")
        let test = temporary("test.json")
        try Data(config.stdout.utf8).write(to: test)
        let document = try #require(JSONSerialization.jsonObject(with: Data(config.stdout.utf8)) as? [String: Any])
        #expect(document["follow_redirects"] as? Int == 1)
        #expect(document["order"] as? String == "sequence")
        #expect((document["data"] as? [String: String])?["csv"] == "username,password\nuser60,pw-user60\n")
        let validated = try stampede(["validate", test.path])
        #expect(validated.status == 0, "\(validated.stdout)\(validated.stderr)")
    }

    /// shop.py's login form (a 302 and a JSON page with a CSRF token), then the page's script
    /// sending that token in a header.
    @Test func theShopsFormLoginAndScriptedCartRunAsFiftyUsers() throws {
        let shop = try Shop()
        defer { shop.stop() }
        let har = try recordHAR(flow: "shop", base: shop.base, user: "ann", password: "secret")
        let imported = try stampede(["import", "har", har.path, "--data-fields", "user,password", "--verify"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stderr.contains("csrf '"))
        #expect(imported.stderr.contains("sent by step 3 header X-CSRF"))
        let journey = temporary("shop.json"), users = temporary("users.csv")
        try Data(imported.stdout.utf8).write(to: journey)
        try Data(("user,password\n" + (1...50).map { "u\($0),p\($0)" }.joined(separator: "\n") + "\n").utf8).write(to: users)
        let run = try stampede(["bench", "--targets", journey.path, "--order", "sequence", "--follow-redirects", "1", "--data", users.path,
                                "-c", "5", "--sessions", "50", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect((try report(run)["sessions"] as? [String: Any])?["completed"] as? Int == 50)
        // Each user's login set its own session; each cart post came with one of them and its token.
        _ = try shop.lines(expecting: 50 * 4)
        let text = try String(contentsOf: shop.log, encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let logins = text.filter { $0.count == 7 && $0[0] == "POST" && $0[1] == "/login" && $0[5].hasPrefix("user=u") }
        #expect(logins.count == 50)
        #expect(Set(logins.map { $0[5] }) == Set((1...50).map { "user=u\($0)" }))
        let sessions = Set(logins.map { "sid=" + $0[6].dropFirst(4) })
        #expect(sessions.count == 50)
        let carts = text.filter { $0.count >= 5 && $0[1] == "/cart" && sessions.contains($0[3]) }
        #expect(carts.count == 50 && carts.allSatisfy { $0[2] == "200" && $0[4] != "csrf=-" })
        #expect(Set(carts.map { $0[3] }) == sessions)
    }

    /// A JSON API from a page's script: a bearer token from one response, an id in the next URL's
    /// path, and a client-side nonce no response gave (reported by name, templated on request).
    @Test func aJSONAPIFlowWithABearerTokenAndAnIDInThePath() throws {
        let shop = try Shop()
        defer { shop.stop() }
        let har = try recordHAR(flow: "api", base: shop.base, user: "ann", password: "secret")
        let plain = try stampede(["import", "har", har.path])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stderr.contains("not found in any earlier response"))
        #expect(plain.stderr.contains("  client_nonce '"))
        #expect(plain.stdout.contains("\"Authorization\": \"Bearer {{var.access_token}}\""))
        #expect(plain.stdout.contains("/api/orders/{{var.order_id|url}}\""))
        let imported = try stampede(["import", "har", har.path, "--template", "client_nonce=uuid", "--data-fields", "user", "--verify"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("\\\"client_nonce\\\":\\\"{{uuid}}\\\""))
        #expect(!imported.stderr.contains("not found in any earlier response"))
        let journey = temporary("api.json"), users = temporary("users.csv")
        try Data(imported.stdout.utf8).write(to: journey)
        try Data(("user\n" + (1...20).map { "u\($0)" }.joined(separator: "\n") + "\n").utf8).write(to: users)
        let run = try stampede(["bench", "--targets", journey.path, "--order", "sequence", "--data", users.path, "-c", "5", "--sessions", "20", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let text = try String(contentsOf: shop.log, encoding: .utf8)
        let reads = text.split(separator: "\n").filter { $0.hasPrefix("GET /api/orders/") && !$0.hasSuffix("user=ann") }
        #expect(reads.count == 20)
        #expect(reads.allSatisfy { $0.contains(" 200 ") })
        #expect(Set(reads.map { $0.split(separator: " ")[1] }).count == 20)
        #expect(Set(reads.map { $0.split(separator: " ").last! }) == Set((1...20).map { "user=u\($0)" }))
    }

    @Test func badRecordingsAreNamedNeverACrash() throws {
        let notJSON = temporary("bad.har")
        try Data("{\"log\": {\"entries\": [\n  {oops}".utf8).write(to: notJSON)
        let a = try stampede(["import", "har", notJSON.path])
        #expect(a.status == 2)
        #expect(a.stderr.contains("not valid JSON (line 2, column 4)"), "\(a.stderr)")
        let missing = temporary("missing.har")
        try Data("{\"log\": {\"version\": \"1.2\"}}".utf8).write(to: missing)
        let b = try stampede(["import", "har", missing.path])
        #expect(b.status == 2 && b.stderr.contains("no `log.entries`"), "\(b.stderr)")
        let c = try stampede(["import", "har", missing.path, "--think", "9-2"])
        #expect(c.status == 2 && c.stderr.contains("--think: MIN must not exceed MAX"), "\(c.stderr)")
        let d = try stampede(["import", "har", missing.path, "--template", "nonce=rand_int:5"])
        #expect(d.status == 2 && d.stderr.contains("--template nonce:"), "\(d.stderr)")
        let e = try stampede(["import", "har", missing.path, "--data-out", "x.csv"])
        #expect(e.status == 2 && e.stderr.contains("--data-out: give --data-fields"), "\(e.stderr)")
    }
}
