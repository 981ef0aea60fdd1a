import Foundation
import Testing
import TestSupport

/// The dashboard in a real browser (headless Chromium) during a real run.
@Suite(.serialized) struct DashboardTests {
    /// nginx, a one-driver cluster and Chromium showing its dashboard, for `body`; stopped after.
    func withDashboard(_ body: (Nginx, Cluster, HeadlessChromium) throws -> Void) throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 1)
        defer { cluster.stop() }
        let chromium = try HeadlessChromium(url: "http://127.0.0.1:\(cluster.apiPort)/")
        defer { chromium.stop() }
        try body(nginx, cluster, chromium)
    }

    @Test func numbersOnThePageChangeAndMatchTheAPI() throws { try withDashboard { nginx, cluster, chromium in
        let screenshot = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-dashboard.png").path
        let out = try chromium.drive("cdp_dashboard.py", ["http://127.0.0.1:\(cluster.apiPort)", "http://127.0.0.1:\(nginx.port)/", screenshot],
                                     timeout: 90)
        #expect(out.status == 0, "\(out.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let samples = result["samples"] as? [[String: Any]] ?? []
        let report = result["report"] as? [String: Any] ?? [:]
        #expect(samples.first?["conn"] as? String == "live")
        #expect(samples.first?["drivers"] as? Int == 1)
        #expect(samples.first?["charts"] as? Bool == true)
        // While the test ran, the page's running total grew more than once.
        let running = samples.filter { $0["status"] as? String == "running" }.compactMap { Int($0["responses"] as? String ?? "") }
        #expect(Set(running).count >= 2, "\(samples)")
        #expect(running == running.sorted())
        let last = try #require(samples.last)
        #expect(last["status"] as? String == "done")
        // The driver's clock offset, as GET /drivers estimates it (one machine: within a few ms of 0).
        let clock = (last["clocks"] as? [String])?.first ?? ""
        let shownOffset = Double(clock.replacingOccurrences(of: " ms", with: "")) ?? 99
        #expect(clock.hasSuffix(" ms") && abs(shownOffset) < 5, "clock offset shown: '\(clock)'")
        #expect(Int(last["responses"] as? String ?? "") == report["responses"] as? Int)
        let p99 = (report["latency_us"] as? [String: Any])?["p99"] as? Int ?? -1
        let shown = p99 < 1000 ? "\(p99) µs" : p99 < 1_000_000 ? String(format: "%.2f ms", Double(p99) / 1000) : String(format: "%.2f s", Double(p99) / 1e6)
        #expect(last["p99"] as? String == shown)
        // Live per name, and the errors by kind: every error of the mix is a failed check of "missing".
        let rows = last["names"] as? [[String]] ?? []
        let byName = report["by_name"] as? [String: [String: Any]] ?? [:]
        #expect(rows.map { $0.first ?? "" } == ["home", "missing"], "\(rows)")
        for row in rows where row.count == 4 {
            #expect(Int(row[1]) == byName[row[0]]?["requests"] as? Int, "\(row) against \(byName[row[0]] ?? [:])")
        }
        let checks = (report["errors"] as? [String: Int])?["check"] ?? 0
        #expect(checks > 0 && last["kinds"] as? String == "errors by kind: check \(checks)", "\(last["kinds"] ?? "")")
    } }

    /// A test of scenarios: the page shows each one live (a table and a line per scenario) and,
    /// at the end, the report's exact counts; a redirect that never happened is not a row; the
    /// sessions chart keeps counts and milliseconds on axes of their own.
    @Test func scenariosAreShownLiveAndEndWithTheReportsCounts() throws { try withDashboard { nginx, cluster, chromium in
        let screenshot = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-dashboard-scenarios.png").path
        let out = try chromium.drive("cdp_scenarios.py", ["http://127.0.0.1:\(cluster.apiPort)", "http://127.0.0.1:\(nginx.port)/", screenshot],
                                     timeout: 90)
        #expect(out.status == 0, "\(out.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let samples = result["samples"] as? [[String: Any]] ?? []
        let report = result["report"] as? [String: Any] ?? [:]
        let running = samples.filter { $0["status"] as? String == "running" }
        #expect(running.contains { ($0["scenarios"] as? [[String]])?.count == 2 && $0["shown"] as? Bool == true }, "\(samples)")
        let last = try #require(samples.last)
        let rows = last["scenarios"] as? [[String]] ?? []
        let scenarios = report["scenarios"] as? [String: [String: Any]] ?? [:]
        #expect(rows.map { $0.first ?? "" } == ["api", "home"], "\(rows)")
        for row in rows where row.count == 6 {
            #expect(Int(row[1]) == scenarios[row[0]]?["requests"] as? Int, "\(row) against the report")
        }
        let lines = (last["lines"] as? [[Any]] ?? []).map { $0.first as? String ?? "" }
        #expect(lines.sorted() == ["api", "home"], "\(last["lines"] ?? "")")
        #expect((last["names"] as? [String] ?? []).allSatisfy { !$0.hasSuffix(" redirect") }, "\(last["names"] ?? "")")
        #expect(last["sessionAxes"] as? [String] == ["count", "count", "count", "ms"], "\(last["sessionAxes"] ?? "")")
        // The thresholds live: the test's and each scenario's, with their state and measured value.
        let live = running.compactMap { $0["thresholds"] as? [[String]] }.last ?? []
        #expect(live.map { $0.first ?? "" } == ["error_rate", "api/max_ms", "home/p99_ms"], "\(live)")
        #expect(live.first { $0.first == "api/max_ms" }?[1] == "failing" && live.first { $0.first == "home/p99_ms" }?[1] == "ok", "\(live)")
        let final = last["thresholds"] as? [[String]] ?? []
        #expect(final.first { $0.first == "api/max_ms" }?[1] == "failed" && final.count == 3, "\(final)")
    } }

    /// The stop button of a running test in the dashboard ends it: the page shows it done within
    /// seconds, and its report keeps what was sent (interrupted).
    @Test func theStopButtonEndsARunningTest() throws { try withDashboard { nginx, cluster, chromium in
        let out = try chromium.drive("cdp_stop.py", ["http://127.0.0.1:\(cluster.apiPort)", "http://127.0.0.1:\(nginx.port)/"], timeout: 90)
        #expect(out.status == 0, "\(out.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        let report = result["report"] as? [String: Any] ?? [:]
        #expect(result["button"] as? Bool == true)
        #expect((result["done_after_s"] as? Double ?? 99) < 10, "\(result)")
        #expect(report["interrupted"] as? Bool == true && (report["duration_s"] as? Double ?? 99) < 30, "\(report)")
        let requests = report["requests"] as? Int ?? 0
        #expect(requests > 0 && report["responses"] as? Int == requests)
        #expect(try nginx.accessLogLines(expecting: requests) == requests)
    } }

    /// The steering controls of a running test: the rate applied from the page, a pause and a
    /// resume, then stop; the page lists each change and the report holds them.
    @Test func theDashboardSteersARunningTest() throws { try withDashboard { nginx, cluster, chromium in
        let out = try chromium.drive("cdp_steer.py", ["http://127.0.0.1:\(cluster.apiPort)", "http://127.0.0.1:\(nginx.port)/"], timeout: 120)
        #expect(out.status == 0, "\(out.stderr)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        #expect(result["fields"] as? [String] == ["rate=100"], "\(result)")
        let listed = result["changes"] as? [String] ?? []
        #expect(listed.count == 3 && listed[0].contains("rate 100 → 300") && listed[1].contains("paused off → on"), "\(listed)")
        let report = result["report"] as? [String: Any] ?? [:]
        let changes = report["changes"] as? [[String: Any]] ?? []
        #expect(changes.map { $0["field"] as? String } == ["rate", "paused", "paused"], "\(changes)")
        #expect(changes.first?["to"] as? Double == 300)
        #expect((report["paused_s"] as? Double ?? 0) >= 1.5 && report["interrupted"] as? Bool == true, "\(report)")
        #expect(try nginx.accessLogLines(expecting: report["requests"] as? Int ?? 0) == report["requests"] as? Int)
    } }

    /// A page opened 5 s into a 10 s test draws the seconds it missed at once, and its percentile
    /// chart has data before the test ends.
    @Test func aPageOpenedMidTestDrawsTheWholeTest() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 1)
        defer { cluster.stop() }
        #expect(try cluster.startTest("late-1", #"{"duration_s": 10, "connections": 2, "target": "http://127.0.0.1:\#(nginx.port)/"}"#) == 202)
        try cluster.waitForProgress("late-1", seconds: 5)
        let chromium = try HeadlessChromium()
        defer { chromium.stop() }
        let out = try chromium.drive("cdp_late.py", ["http://127.0.0.1:\(cluster.apiPort)/"])
        #expect(out.status == 0, "\(out.stderr)")
        let seen = try jsonObject(out.stdout)
        #expect(seen["status"] as? String == "running", "read while the test ran: \(seen)")
        #expect((seen["seconds"] as? Int ?? 0) >= 4, "seconds drawn at once: \(seen)")
        #expect((seen["spectrum"] as? Int ?? 0) > 0, "percentile chart before the end: \(seen)")
        #expect(seen["tension"] as? Int == 0, "lines are not smoothed: \(seen)")
        _ = try cluster.waitForTest("late-1")
    }
}
