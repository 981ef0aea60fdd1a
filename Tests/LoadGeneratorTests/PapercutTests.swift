import Foundation
import Testing
import TestSupport

/// Papercuts a new user met (issue 28): each message names what is wrong where it is, nothing
/// unused passes silently, and labels say what a test aims at.
@Suite(.serialized) struct PapercutTests {
    func bench(_ arguments: [String], timeout: Double = 30) throws -> CommandResult {
        try runCommand(stampedeBinary, ["bench"] + arguments, timeout: timeout)
    }

    /// A space in a CSV value that goes into a URL is refused naming the column and the row
    /// (not as a URL error); a missing CSV says so; data no template reads is warned about.
    @Test func dataErrorsNameTheColumnRowAndFile() throws {
        let users = try temporaryFile("users.csv", "name,id\nann,1\nbob lee,2\n")
        let spaced = try bench(["http://127.0.0.1:9/u/{{row.name}}", "--data", users, "--dry-run"])
        #expect(spaced.status == 2 && spaced.stderr.contains("data column 'name', row 2 ('bob lee')"), "\(spaced.stderr)")
        let first = try temporaryFile("first.csv", "name\nann lee\n")
        let firstRow = try bench(["http://127.0.0.1:9/u/{{row.name}}", "--data", first, "--dry-run"])
        #expect(firstRow.status == 2 && firstRow.stderr.contains("data column 'name', row 1"), "\(firstRow.stderr)")
        let missing = try bench(["http://127.0.0.1:9/", "--data", "/nonexistent/nosuch.csv", "--dry-run"])
        #expect(missing.status == 2 && missing.stderr.contains("--data: no such file '/nonexistent/nosuch.csv'"), "\(missing.stderr)")
        let unused = try bench(["http://127.0.0.1:9/", "--data", users, "--dry-run"])
        #expect(unused.status == 0 && unused.stderr.contains("warning: --data") && unused.stderr.contains("not used"), "\(unused.stderr)")
        let used = try bench(["http://127.0.0.1:9/u/{{row.id}}", "--data", users, "--dry-run"])
        #expect(used.status == 0 && !used.stderr.contains("warning"), "\(used.stderr)")
    }

    /// Broken JSON is placed (line and column); a file that is not a report is said to be so,
    /// without the decoder's internals.
    @Test func brokenFilesArePlaced() throws {
        let broken = try temporaryFile("broken.json", "[{\"url\": \"http://127.0.0.1:9/\"},\n {\"url\": }]\n")
        let run = try bench(["--targets", broken, "--dry-run"])
        #expect(run.status == 2 && run.stderr.contains("line 2"), "\(run.stderr)")
        let users = try temporaryFile("users.csv", "name\nann\n")
        let compare = try runCommand(stampedeBinary, ["compare", users, users], timeout: 30)
        #expect(compare.status == 2 && compare.stderr.contains("is not a Stampede report (not JSON)"), "\(compare.stderr)")
        #expect(!compare.stderr.contains("DecodingError") && !compare.stderr.contains("Debug description"), "\(compare.stderr)")
    }

    /// A mix over two origins is labelled by its count of requests and origins, not its first URL.
    @Test func aMixOverTwoOriginsSaysSo() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let mix = try temporaryFile("two.json", """
            [{"url": "http://127.0.0.1:\(nginx.port)/a"}, {"url": "http://127.0.0.1:\(nginx.port)/b"}, {"url": "http://localhost:\(nginx.port)/c"}]
            """)
        let run = try bench(["--targets", mix, "-c", "1", "--requests", "6"], timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("3 requests over 2 origins"), "\(run.stdout)")
        let one = try temporaryFile("one.json", #"[{"url": "http://127.0.0.1:\#(nginx.port)/a"}, {"url": "http://127.0.0.1:\#(nginx.port)/b"}]"#)
        let single = try bench(["--targets", one, "-c", "1", "--requests", "2"], timeout: 60)
        #expect(single.stdout.contains("http://127.0.0.1:\(nginx.port) (2 requests)"), "\(single.stdout)")
    }

    /// A search where no rate holds writes `max_rate: null`, with the note saying why.
    @Test func aSearchWithNoPassingRateSaysNull() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let run = try runCommand(stampedeBinary, ["search", "http://127.0.0.1:\(nginx.port)/", "--slo", "p99_ms=0.001", "--start-rate", "50",
                                                  "--max-rate", "100", "--step-s", "1", "-c", "2", "--json"], timeout: 60)
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stdout.contains(#""max_rate" : null"#), "\(run.stdout.prefix(600))")
        let search = try #require(try jsonObject(run.stdout)["search"] as? [String: Any])
        #expect((search["note"] as? String)?.contains("no tested rate passed") == true)
    }

    /// report.html shows the data as rows and columns and credentials as ***; the orchestrator's
    /// test.json (which needs them for a restart) is readable by its owner only.
    @Test func reportsHideSecretsAndTheConfigFileIsTheOwners() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let users = try temporaryFile("users.csv", "user,password\nann,hunter2\nbob,swordfish\n")
        let html = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString).html").path
        let run = try bench(["http://127.0.0.1:\(nginx.port)/u/{{row.user}}", "--data", users, "-H", "Authorization: Bearer s3cr3t",
                             "-H", "X-Api-Key: k-123", "-H", "X-Trace: visible", "-c", "1", "--requests", "4", "--html", html], timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        for secret in ["hunter2", "swordfish", "s3cr3t", "k-123"] { #expect(!page.contains(secret), "report.html shows \(secret)") }
        #expect(page.contains("***") && page.contains("2 rows; columns: user, password") && page.contains("visible"))

        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: reports) }
        let distributed = try runCommand(stampedeBinary, ["run", "http://127.0.0.1:\(nginx.port)/", "-H", "Authorization: Bearer s3cr3t",
                                                          "--drivers", "1", "--requests", "10", "--json", "--reports-dir", reports.path], timeout: 60)
        #expect(distributed.status == 0, "\(distributed.stderr)")
        let id = try #require(try jsonObject(distributed.stdout)["test_id"] as? String)
        let state = reports.appendingPathComponent("\(id)/test.json").path
        let mode = (try FileManager.default.attributesOfItem(atPath: state)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600, "test.json mode \(String(mode ?? -1, radix: 8))")
        let servedPage = try String(contentsOfFile: reports.appendingPathComponent("\(id)/report.html").path, encoding: .utf8)
        #expect(!servedPage.contains("s3cr3t") && servedPage.contains("***"))
    }

    /// A paced run intends exactly rate × duration requests: never more (4 connections at 3/s for
    /// 3 s sent 10 before), and against a server too slow for its connections it says what it
    /// could not send, and why, instead of quietly sending fewer.
    @Test func aPacedRunSaysWhatItCouldNotSend() throws {
        let fastPort = freePort(), slowPort = freePort()
        let fast = try ServerProcess(stampedeBinary, ["target", "--listen", "127.0.0.1:\(fastPort)"], port: fastPort)
        defer { fast.stop() }
        let slow = try ServerProcess(stampedeBinary, ["target", "--listen", "127.0.0.1:\(slowPort)", "--delay-ms", "1000"], port: slowPort)
        defer { slow.stop() }
        let edge = try jsonObject(try bench(["http://127.0.0.1:\(fastPort)/", "--mode", "tsunami", "-c", "4", "-R", "3", "-d", "3s", "--json"]).stdout)
        #expect(edge["requests"] as? Int == 9 && edge["intended"] as? Int == 9 && edge["unsent"] as? Int == 0, "\(edge["requests"] ?? "-")")

        let json = try bench(["http://127.0.0.1:\(slowPort)/", "--mode", "tsunami", "-c", "2", "-R", "4", "-d", "3s", "--json"], timeout: 60)
        let report = try jsonObject(json.stdout)
        let sent = report["requests"] as? Int ?? 0, unsent = report["unsent"] as? Int ?? -1
        #expect(report["intended"] as? Int == 12 && sent + unsent == 12 && unsent >= 3, "sent \(sent), unsent \(unsent)")
        // Each unsent request in the second it was due: the late ones are the last seconds'.
        let perSecond = report["unsent_per_second"] as? [Int] ?? []
        #expect(perSecond.reduce(0, +) == unsent && perSecond.count <= 3 && perSecond.first == 0, "\(perSecond)")
        let summary = try bench(["http://127.0.0.1:\(slowPort)/", "--mode", "tsunami", "-c", "2", "-R", "4", "-d", "3s",
                                 "--threshold", "unsent_rate=0.1"], timeout: 60)
        #expect(summary.status == 3, "\(summary.stdout)")
        #expect(summary.stdout.contains("of 12 intended") && summary.stdout.contains("2 connections at about 1.00s per response carry about 2 req/s"),
                "\(summary.stdout)")
        #expect(summary.stdout.contains("Threshold unsent_rate <= 0.1: FAILED"))
    }

    /// `expect_body` is a template like the rest of the request, rendered with the request's own
    /// row; one drawing random values (never the request's) is refused.
    @Test func expectBodyIsTemplatedWithTheRequestsValues() throws {
        let nginx = try Nginx(locations: #"location /echo { default_type text/plain; return 200 "hello $arg_u\n"; }"#)
        defer { nginx.stop() }
        let users = try temporaryFile("users.csv", "user\nann\nbob\ncid\n")
        for (expect, failures) in [("hello {{row.user}}", 0), ("hello x{{row.user}}", 6)] {
            let mix = try temporaryFile("echo.json", """
                [{"name": "echo", "url": "http://127.0.0.1:\(nginx.port)/echo?u={{row.user}}", "expect_body": "\(expect)"}]
                """)
            let run = try bench(["--targets", mix, "--data", users, "-c", "1", "--requests", "6", "--json"], timeout: 60)
            let errors = try jsonObject(run.stdout)["errors"] as? [String: Int] ?? [:]
            #expect(errors["check"] == failures, "\(expect): \(errors)")
        }
        let random = try temporaryFile("random.json", #"[{"url": "http://127.0.0.1:9/", "expect_body": "n={{rand_int:1:9}}"}]"#)
        let refused = try bench(["--targets", random, "--dry-run"])
        #expect(refused.status == 2 && refused.stderr.contains("expect_body") && refused.stderr.contains("rand_int"), "\(refused.stderr)")
    }

    /// A failed check says why: per name, how many failed on status and how many on body, and
    /// the first failing response (its status and the first bytes of its body).
    @Test func aFailedCheckSaysWhy() throws {
        let nginx = try Nginx(locations: #"location /broken { default_type text/plain; return 500 "boom: the database is away\n"; }"#)
        defer { nginx.stop() }
        let mix = try temporaryFile("checks.json", """
            [{"name": "broken", "url": "http://127.0.0.1:\(nginx.port)/broken", "expect_status": [200]},
             {"name": "home", "url": "http://127.0.0.1:\(nginx.port)/", "expect_body": "no such text"}]
            """)
        // A random mix (with sessions, the first failed check would end each session before "home").
        let run = try bench(["--targets", mix, "--seed", "7", "-c", "1", "--requests", "20", "--json"], timeout: 60)
        let report = try jsonObject(run.stdout)
        let errors = report["errors"] as? [String: Int] ?? [:]
        let byName = report["by_name"] as? [String: [String: Any]] ?? [:]
        let broken = byName["broken"]?["requests"] as? Int ?? 0, home = byName["home"]?["requests"] as? Int ?? 0
        #expect(broken > 0 && home > 0 && broken + home == 20)
        let why = report["check_failures"] as? [String: Int] ?? [:]
        #expect(errors["check"] == 20 && why["status"] == broken && why["body"] == home, "\(errors) \(why)")
        #expect(errors.values.reduce(0, +) == 20, "the kinds of errors add up: \(errors)")
        #expect((byName["broken"]?["check_failures"] as? [String: Int])?["status"] == broken)
        #expect((byName["home"]?["check_failures"] as? [String: Int])?["body"] == home)
        let first = report["first_check_failure"] as? String ?? ""
        #expect((first.contains("broken: status 500 outside expect_status 200") && first.contains("body: boom: the database is away"))
                || (first.contains("home: body without expect_body") && first.contains("body: ")), "\(first)")
        let summary = try bench(["--targets", mix, "--seed", "7", "-c", "1", "--requests", "20"], timeout: 60)
        #expect(summary.stdout.contains("check 20 (status \(broken), body \(home))") && summary.stdout.contains("First failed check: "),
                "\(summary.stdout)")
    }

    /// Thresholds and allowed regressions for one name of a list (`checkout:p99_ms=200`,
    /// `compare --max-regression checkout:p99=10%`); a name the test does not have is refused.
    @Test func perNameThresholdsAndRegressions() throws {
        let fastPort = freePort(), slowPort = freePort()
        let fast = try ServerProcess(stampedeBinary, ["target", "--listen", "127.0.0.1:\(fastPort)"], port: fastPort)
        defer { fast.stop() }
        let slow = try ServerProcess(stampedeBinary, ["target", "--listen", "127.0.0.1:\(slowPort)", "--delay-ms", "30"], port: slowPort)
        defer { slow.stop() }
        func mix(_ port: Int) throws -> String {
            try temporaryFile("mix.json", #"[{"name": "home", "url": "http://127.0.0.1:\#(port)/"}, {"name": "cart", "url": "http://127.0.0.1:\#(fastPort)/c"}]"#)
        }
        let held = try bench(["--targets", try mix(fastPort), "-c", "2", "--requests", "100", "--threshold", "home:p99_ms=1000"], timeout: 60)
        #expect(held.status == 0 && held.stdout.contains("Threshold home:p99_ms <= 1000.0: passed"), "\(held.stdout)")
        let broke = try bench(["--targets", try mix(slowPort), "-c", "2", "--requests", "100", "--threshold", "home:p99_ms=10",
                               "--threshold", "cart:p99_ms=1000"], timeout: 60)
        #expect(broke.status == 3 && broke.stdout.contains("Threshold home:p99_ms <= 10.0: FAILED"), "\(broke.stdout)")
        #expect(broke.stdout.contains("Threshold cart:p99_ms <= 1000.0: passed"))
        let unknown = try bench(["--targets", try mix(fastPort), "--threshold", "checkout:p99_ms=10", "--dry-run"])
        #expect(unknown.status == 2 && unknown.stderr.contains("no request is named 'checkout'"), "\(unknown.stderr)")

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("compare-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let base = dir.appendingPathComponent("base.json").path, new = dir.appendingPathComponent("new.json").path
        try Data(try bench(["--targets", try mix(fastPort), "-c", "2", "--requests", "100", "--json"], timeout: 60).stdout.utf8).write(to: URL(fileURLWithPath: base))
        try Data(try bench(["--targets", try mix(slowPort), "-c", "2", "--requests", "100", "--json"], timeout: 60).stdout.utf8).write(to: URL(fileURLWithPath: new))
        let regressed = try runCommand(stampedeBinary, ["compare", base, new, "--max-regression", "home:p99=10%", "--max-regression", "cart:p99=1000%"])
        #expect(regressed.status == 3 && regressed.stderr.contains("home:p99"), "\(regressed.stdout) \(regressed.stderr)")
        #expect(!regressed.stderr.contains("cart:p99"))
        let missing = try runCommand(stampedeBinary, ["compare", base, new, "--max-regression", "checkout:p99=10%"])
        #expect(missing.status == 2 && missing.stderr.contains("'checkout' is not a name of both reports"), "\(missing.stderr)")
    }

    /// report.html's axes tick at 1-2-5 steps, the intended-rate line is drawn dashed on top of
    /// the achieved one, and compare --html's legend labels do not overlap and give units.
    @Test func chartsReadAtAGlance() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("charts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let page = dir.appendingPathComponent("r.html").path, json = dir.appendingPathComponent("r.json").path
        let run = try bench(["http://127.0.0.1:\(nginx.port)/", "--mode", "tsunami", "-R", "263", "-c", "4", "-d", "2s", "--html", page, "--json"], timeout: 60)
        try Data(run.stdout.utf8).write(to: URL(fileURLWithPath: json))
        let html = try String(contentsOfFile: page, encoding: .utf8)
        let charts = html.components(separatedBy: "<svg ").dropFirst()
        let rate = try #require(charts.first { $0.contains("Requests and errors per second") })
        // Y ticks: 0, s, 2s, ... with s one of 1, 2, 5 times a power of ten.
        let ticks = rate.matches(of: /text-anchor="end">([0-9.]+)(k?)</).map { Double(String($0.1))! * ($0.2 == "k" ? 1000 : 1) }
        #expect(ticks.count >= 3 && ticks.first == 0, "\(ticks)")
        let step = ticks.count > 1 ? ticks[1] - ticks[0] : 0
        let mantissa = step / pow(10, log10(step).rounded(.down))
        #expect([1.0, 2, 5].contains { abs($0 - mantissa) < 1e-6 }, "step \(step) of \(ticks)")
        for (a, b) in zip(ticks, ticks.dropFirst()) { #expect(abs(b - a - step) < 1e-6, "\(ticks)") }
        // The dashed (intended) line comes after the solid ones: drawn on top.
        let lines = rate.matches(of: /<polyline[^>]*>/).map { String($0.0) }
        #expect(lines.last?.contains("stroke-dasharray") == true && lines.dropLast().allSatisfy { !$0.contains("stroke-dasharray") }, "\(lines.map { $0.prefix(60) })")

        let compared = dir.appendingPathComponent("c.html").path
        let compare = try runCommand(stampedeBinary, ["compare", json, json, "--html", compared])
        #expect(compare.status == 0, "\(compare.stderr)")
        let comparison = try String(contentsOfFile: compared, encoding: .utf8)
        let legend = comparison.matches(of: /<rect x="([0-9.]+)" y="[0-9.]+" width="10" height="3" fill="[^"]+"\/><text x="[0-9.]+" y="[0-9.]+">([^<]+)</).map {
            (x: Double(String($0.1))!, label: String($0.2))
        }
        #expect(legend.count >= 2, "\(legend)")
        if legend.count >= 2 { #expect(legend[1].x - legend[0].x >= 14 + Double(legend[0].label.count) * 6, "\(legend)") }
        #expect(comparison.contains("0.000%") && comparison.contains("req/s") && comparison.contains(" ms<"), "units in the comparison table")
    }
}
