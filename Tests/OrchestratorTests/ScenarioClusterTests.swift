import Foundation
import Testing
import TestSupport

/// Scenarios through the whole system: POST /tests, Kafka (Tansu), two drivers, against the shop
/// (Tests/Interop/shop.py) and nginx, whose logs are the truth each scenario is held to.
@Suite(.serialized) struct ScenarioClusterTests {
    static func config(id: String, shop: Shop, nginx: Nginx, duration: Int = 6) -> String {
        let web = "http://127.0.0.1:\(nginx.port)"
        return """
            {"seed": 5, "scenarios": {
              "browse": {"requests": [{"name": "home", "url": "\(web)/browse/home"}, {"name": "item", "url": "\(web)/browse/item/{{seq}}"}],
                         "order": "sequence", "test_type": "TSUNAMI", "session_rate": 10, "connections": 6, "duration_s": \(duration),
                         "think_ms": 50},
              "buy": {"requests": \(SessionClusterTests.visit(shop.base, think: 20)), "order": "sequence", "follow_redirects": 1,
                      "connections": 2, "duration_s": \(duration), "thresholds": {"session_error_rate": 0}},
              "api": {"target": "\(web)/api/items", "test_type": "TSUNAMI", "rate": 100, "connections": 4, "duration_s": 2,
                      "start_after_s": 4}
            }}
            """
    }

    static func scenario(_ report: [String: Any], _ name: String) -> [String: Any] {
        ((report["scenarios"] as? [String: Any])?[name] as? [String: Any]) ?? [:]
    }

    @Test func threeScenariosOverKafkaWithTwoDriversEqualTheLogsOfTheirSites() throws {
        let shop = try Shop()
        defer { shop.stop() }
        let nginx = try Nginx(logFormat: "$msec $request_uri $status")
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        #expect(try cluster.startTest("mix-1", Self.config(id: "mix-1", shop: shop, nginx: nginx)) == 202)
        let (status, report, _) = try cluster.finishedTest("mix-1", seconds: 90)
        #expect(status == "done", "\(report)")
        let browse = Self.scenario(report, "browse"), buy = Self.scenario(report, "buy"), api = Self.scenario(report, "api")
        let total = [browse, buy, api].map { $0["requests"] as? Int ?? -1 }.reduce(0, +)
        #expect(report["requests"] as? Int == total)
        // Each scenario's counts are its site's.
        let shopLines = try shop.lines(expecting: buy["requests"] as? Int ?? 0)
        #expect(shopLines.count == buy["requests"] as? Int && shopLines.allSatisfy { $0.status == 200 || $0.status == 302 })
        let web = try nginx.accessLog(expecting: (browse["requests"] as? Int ?? 0) + (api["requests"] as? Int ?? 0))
        let browsed = web.filter { $0.contains(" /browse/") }, called = web.filter { $0.contains(" /api/") }
        #expect(browsed.count == browse["requests"] as? Int && called.count == api["requests"] as? Int)
        // The API scenario: its rate × its duration, split over the drivers, starting 4 s in.
        #expect(api["intended"] as? Int == 200 && api["requests"] as? Int == 200 && api["unsent"] as? Int == 0, "\(api)")
        func firstAt(_ lines: [String]) -> Double { lines.compactMap { Double($0.split(separator: " ")[0]) }.min() ?? 0 }
        let late = firstAt(called) - firstAt(browsed)
        #expect(late >= 3.9 && late < 4.6, "api began \(late) s after browse")
        // Browsers arrive 10 a second for 6 s (two drivers, 5 each); buyers are a closed loop.
        let sessions = browse["sessions"] as? [String: Any] ?? [:]
        #expect(sessions["started"] as? Int == 60 && sessions["completed"] as? Int == 60, "\(sessions)")
        let bought = buy["sessions"] as? [String: Any] ?? [:]
        #expect((bought["completed"] as? Int ?? 0) > 10 && bought["failed_total"] as? Int == 0, "\(bought)")
        let results = (report["thresholds"] as? [String: Any])?["results"] as? [[String: Any]] ?? []
        #expect(results.map { $0["name"] as? String } == ["buy/session_error_rate"] && results.allSatisfy { $0["passed"] as? Bool == true })

        // Per-scenario percentiles: the drivers' per-scenario histograms merged by Python's hdrhistogram.
        let dir = cluster.reportsDirectory.appendingPathComponent("mix-1")
        let finals = try ["d1", "d2"].map { d in
            try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("drivers/\(d).json"))) as! [String: Any]
        }
        for (name, one) in [("browse", browse), ("buy", buy), ("api", api)] {
            let parts = finals.compactMap { (($0["scenarios"] as? [String: Any])?[name] as? [String: Any])?["histogram"] as? String }
            #expect(parts.count == 2, "\(name): both drivers ran it")
            let merged = try python("merge", ["b64": parts, "percentiles": [50.0, 90, 99]], as: PythonStats.self)
            let latency = one["latency_us"] as? [String: Any] ?? [:]
            #expect(merged.total == Int64(one["responses"] as? Int ?? -1), "\(name)")
            #expect(merged.values == ["p50", "p90", "p99"].map { Int64(latency[$0] as? Int ?? -1) }, "\(name): \(merged.values) vs \(latency)")
            #expect(merged.max == Int64(latency["max"] as? Int ?? -1))
        }
        let hlog = try String(contentsOf: dir.appendingPathComponent("latency.hlog"), encoding: .utf8)
        #expect(hlog.contains("Tag=scenario.api,") && hlog.contains("Tag=scenario.buy,") && hlog.contains("Tag=scenario.browse,"))
        // /metrics: a scenario label on each scenario's latency summary and request count.
        let (_, metrics) = try cluster.call("GET", "/metrics", body: nil, headers: [])
        #expect(metrics.contains(#"stampede_test_latency_seconds_count{test_id="mix-1",scenario="api"} 200"#), "\(metrics)")
        #expect(metrics.contains(#"stampede_scenario_requests_total{test_id="mix-1",scenario="buy"} \#(buy["requests"] as? Int ?? -1)"#))
    }

    /// A driver killed mid-test: each scenario keeps what it reported, the report is partial and
    /// names it, and each scenario's count is its site's less at most the killed driver's last,
    /// unreported seconds.
    @Test func aDriverKilledMidTestLeavesEachScenarioTheCountsOfItsSite() throws {
        let shop = try Shop()
        defer { shop.stop() }
        let nginx = try Nginx(logFormat: "$msec $request_uri $status")
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 3, heartbeatTimeoutMs: 2_000)
        defer { cluster.stop() }
        #expect(try cluster.startTest("mix-2", Self.config(id: "mix-2", shop: shop, nginx: nginx, duration: 8)) == 202)
        try cluster.waitForProgress("mix-2", seconds: 2, requests: 100)
        cluster.killDriver("d2")
        let (status, report, _) = try cluster.finishedTest("mix-2", seconds: 90)
        #expect(status == "done" && report["partial"] as? Bool == true && report["failed_drivers"] as? [String] == ["d2"], "\(report)")
        let browse = Self.scenario(report, "browse"), buy = Self.scenario(report, "buy"), api = Self.scenario(report, "api")
        #expect(report["requests"] as? Int == [browse, buy, api].map { $0["requests"] as? Int ?? -1 }.reduce(0, +))
        let web = try nginx.accessLogLines()
        let lines = try String(contentsOf: nginx.directory.appendingPathComponent("access.log"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == web)
        let sites = [("browse", lines.filter { $0.contains(" /browse/") }.count, 60),
                     ("api", lines.filter { $0.contains(" /api/") }.count, 120),
                     ("buy", try shop.lines(expecting: buy["requests"] as? Int ?? 0).count, 500)]
        for (name, seen, slack) in sites {
            let counted = Self.scenario(report, name)["requests"] as? Int ?? -1
            #expect(counted <= seen && seen - counted <= slack, "\(name): the site saw \(seen), the report counts \(counted)")
        }
        // d2 ran no second of the API scenario (it starts 4 s in): the two survivors sent their
        // shares whole (a third of 100/s each for 2 s), every one intended.
        let sent = api["requests"] as? Int ?? 0
        #expect(sent >= 132 && sent <= 134 && api["intended"] as? Int == sent && api["unsent"] as? Int == 0, "\(api)")
    }

    /// A scenario's threshold with abort_on_fail, judged each second on its own figures from every
    /// driver: failing, it stops the whole test, and the report names the scenario.
    @Test func aScenariosFailingThresholdAbortsTheTestNamingIt() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        let web = "http://127.0.0.1:\(nginx.port)"
        #expect(try cluster.startTest("abort-sc", """
            {"scenarios": {
              "steady": {"target": "\(web)/a", "connections": 2, "duration_s": 30, "thresholds": {"p99_ms": 10000}},
              "api": {"target": "\(web)/b", "connections": 1, "duration_s": 30, "start_after_s": 1,
                      "thresholds": {"max_ms": {"limit": 0.001, "abort_on_fail": true, "delay_abort_eval_s": 1}}}
            }}
            """) == 202)
        let (status, report, _) = try cluster.finishedTest("abort-sc", seconds: 60)
        #expect(status == "done" && report["partial"] as? Bool == true, "\(report)")
        let aborted = report["aborted"] as? [String: Any] ?? [:]
        #expect(aborted["scenario"] as? String == "api" && aborted["threshold"] as? String == "max_ms", "\(aborted)")
        #expect((aborted["at_s"] as? Double ?? 99) <= 5 && (report["duration_s"] as? Double ?? 99) < 10, "\(report)")
        let results = (report["thresholds"] as? [String: Any])?["results"] as? [[String: Any]] ?? []
        #expect(results.contains { $0["name"] as? String == "api/max_ms" && $0["passed"] as? Bool == false }, "\(results)")
        #expect(results.contains { $0["name"] as? String == "steady/p99_ms" && $0["passed"] as? Bool == true }, "\(results)")
    }

    /// A capacity search of one scenario while another runs at its own load in every step: nginx
    /// limits both paths together to 300 requests/s, browsing takes 100 of them, so the most
    /// checkouts per second within the SLO is about 200 (alone it would be about 300).
    @Test func aSearchOfOneScenarioWithTheOthersAsBackgroundLoad() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-search-bg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("ok.txt")
        try Data("ok".utf8).write(to: page)
        let limit = "limit_req zone=one burst=10 nodelay; limit_req_status 503; alias \(page.path);"
        let nginx = try Nginx(httpSettings: "limit_req_zone $binary_remote_addr zone=one:1m rate=300r/s;",
                              locations: "location = /browse { \(limit) } location = /checkout { \(limit) }",
                              logFormat: "$msec $request_uri $status")
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        let web = "http://127.0.0.1:\(nginx.port)"
        let config = """
            {"search_scenario": "checkout", "slo": {"error_rate": 0.01}, "start_rate": 50, "max_rate": 800, "step_s": 2,
             "scenarios": {
               "browse": {"target": "\(web)/browse", "test_type": "TSUNAMI", "rate": 100, "connections": 4},
               "checkout": {"target": "\(web)/checkout", "connections": 10}
             }}
            """
        // Fields a search sets itself are refused in its scenarios, naming them.
        let (refused, why) = try cluster.json("POST", "/tests", body: config.replacingOccurrences(of: #""connections": 10}"#, with: #""connections": 10, "rate": 5}"#))
        #expect(refused == 400 && why["field"] as? String == "scenarios.checkout.rate", "\(why)")
        let (created, answer) = try cluster.json("POST", "/tests", body: "{\"test_id\": \"search-bg\", " + config.dropFirst())
        #expect(created == 201, "\(answer)")
        let (triggered, started) = try cluster.json("POST", "/trigger", body: #"{"test_id": "search-bg"}"#)
        #expect(triggered == 202, "\(started)")
        let (status, report, _) = try cluster.finishedTest("search-bg", seconds: 150)
        #expect(status == "done", "\(report)")
        let search = try #require(report["search"] as? [String: Any], "\(report.keys)")
        let max = search["max_rate"] as? Double ?? 0
        let steps = search["steps"] as? [[String: Any]] ?? []
        #expect(max >= 150 && max <= 230, "max_rate \(max) with 100/s of browsing: \(steps)")
        print("search with background load: max_rate \(max) in \(steps.count) steps")
        // Browsing ran at its load in every step: 100/s for 2 s each, all of them sent and served.
        let browse = Self.scenario(report, "browse")
        #expect(browse["requests"] as? Int == 200 * steps.count && browse["intended"] as? Int == 200 * steps.count, "\(browse)")
        let lines = try nginx.accessLog(expecting: report["requests"] as? Int ?? 0)
        #expect(lines.filter { $0.contains(" /browse ") }.count == 200 * steps.count)
        #expect(Self.scenario(report, "checkout")["requests"] as? Int == lines.filter { $0.contains(" /checkout ") }.count)
    }

    /// A scenario whose driver_selector matches no driver is refused at the trigger (503 naming it).
    @Test func aScenarioNoDriverMatchesIsRefusedNamingIt() throws {
        let cluster = try Cluster(drivers: 1)
        defer { cluster.stop() }
        let body = #"{"test_id": "sel-1", "scenarios": {"a": {"target": "http://127.0.0.1:1/", "duration_s": 1}, "b": {"target": "http://127.0.0.1:1/", "duration_s": 1, "driver_selector": {"zone": "mars"}}}}"#
        let (created, _) = try cluster.json("POST", "/tests", body: body)
        #expect(created == 201 || created == 202)
        let (status, answer) = try cluster.json("POST", "/trigger", body: #"{"test_id": "sel-1"}"#)
        #expect(status == 503, "\(answer)")
        #expect(answer["field"] as? String == "scenarios.b.driver_selector", "\(answer)")
    }
}
