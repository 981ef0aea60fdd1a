import Foundation
import Testing
import TestSupport

/// `stampede compare` and `bench --html` on two real runs: one against `stampede target`, one
/// against the same server 20 ms slower.
@Suite(.serialized) struct CompareTests {
    @Test func aSlowerRunIsARegressionAndARunIsNotOneAgainstItself() throws {
        let fast = freePort(), slow = freePort()
        let a = try ServerProcess(stampedeBinary, ["target", "--listen", "127.0.0.1:\(fast)"], port: fast)
        defer { a.stop() }
        let b = try ServerProcess(stampedeBinary, ["target", "--listen", "127.0.0.1:\(slow)", "--delay-ms", "20"], port: slow)
        defer { b.stop() }
        let base = try temporaryFile("base.json", "")
        let new = try temporaryFile("new.json", "")
        let html = base.replacingOccurrences(of: "base.json", with: "base.html")
        let first = try runCommand(stampedeBinary, ["bench", "http://127.0.0.1:\(fast)/", "-c", "10", "-d", "2", "--json", "--html", html])
        try first.stdout.write(toFile: base, atomically: true, encoding: .utf8)
        let second = try runCommand(stampedeBinary, ["bench", "http://127.0.0.1:\(slow)/", "-c", "10", "-d", "2", "--json"])
        try second.stdout.write(toFile: new, atomically: true, encoding: .utf8)
        #expect(first.status == 0 && second.status == 0)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("<svg class=\"chart") && !page.contains("<script src") && !page.contains("http://cdn"))

        let worse = try runCommand(stampedeBinary, ["compare", base, new, "--max-regression", "p99=10%", "--max-regression", "error_rate=50%"])
        #expect(worse.status == 3, "\(worse.stdout) \(worse.stderr)")
        #expect(worse.stderr.contains("p99") && !worse.stderr.contains("error_rate"), "\(worse.stderr)")
        #expect(worse.stdout.contains("REGRESSION"))
        let same = try runCommand(stampedeBinary, ["compare", base, base, "--max-regression", "p99=10%", "--max-regression", "rps=5%", "--json"])
        #expect(same.status == 0, "\(same.stdout) \(same.stderr)")
        #expect(try jsonObject(same.stdout)["passed"] as? Bool == true || same.stdout.contains("\"regressed\" : false"))
        let chart = base.replacingOccurrences(of: "base.json", with: "compare.html")
        #expect(try runCommand(stampedeBinary, ["compare", base, new, "--html", chart]).status == 0)
        #expect(try String(contentsOfFile: chart, encoding: .utf8).contains("both runs"))
    }

    @Test func badCompareInputExitsTwoNamingIt() throws {
        let notReport = try temporaryFile("x.json", #"{"hello": 1}"#)
        let report = try temporaryFile("r.json", "")
        let port = freePort()
        let target = try ServerProcess(stampedeBinary, ["target", "--listen", "127.0.0.1:\(port)"], port: port)
        defer { target.stop() }
        try runCommand(stampedeBinary, ["bench", "http://127.0.0.1:\(port)/", "--requests", "100", "--json"]).stdout
            .write(toFile: report, atomically: true, encoding: .utf8)
        let cases: [(arguments: [String], expected: String)] = [
            (["/nonexistent/report.json", report], "BASE: cannot read '/nonexistent/report.json'"),
            ([report, notReport], "NEW: '\(notReport)' is not a Stampede report"),
            ([report, report, "--max-regression", "p98=5%"], "--max-regression: expected NAME=P%"),
            ([report, report, "--max-regression", "p99=-5%"], "--max-regression: p99 needs a percentage"),
        ]
        for c in cases {
            let run = try runCommand(stampedeBinary, ["compare"] + c.arguments)
            #expect(run.status == 2 && run.stderr.contains(c.expected), "\(c.arguments): \(run.status) \(run.stderr)")
        }
    }
}
