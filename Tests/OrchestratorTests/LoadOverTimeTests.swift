import Foundation
import Testing
import TestSupport

/// Stages and capacity search through the distributed system: orchestrator, two drivers and
/// Tansu, against nginx.
@Suite(.serialized) struct LoadOverTimeTests {
    /// A tsunami ramp 500 → 3000 req/s over 10 s, then 5 s at 3000, split over two drivers;
    /// nginx's worker stops for 1 s at 5 s: the corrected latency shows it, the service time
    /// does not, and every intended request is sent.
    @Test func distributedRampWithAStallKeepsItsShape() throws {
        let nginx = try Nginx(logFormat: "$msec $request_uri $status")
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        let (created, body) = try cluster.json("POST", "/tests", body: """
            {"test_id": "ramp-1", "test_type": "TSUNAMI", "target": "http://127.0.0.1:\(nginx.port)/", "connections": 25,
             "start": 500, "stages": [{"duration_s": 10, "target": 3000}, {"duration_s": 5, "target": 3000}]}
            """)
        #expect(created == 201, "\(body)")
        #expect(try cluster.json("POST", "/trigger", body: #"{"test_id": "ramp-1"}"#).0 == 202)
        try cluster.waitForProgress("ramp-1", seconds: 5)
        let worker = try nginx.workerPID()
        kill(worker, SIGSTOP)
        Thread.sleep(forTimeInterval: 1)
        kill(worker, SIGCONT)
        let detail = try cluster.waitForTest("ramp-1", seconds: 90)
        let report = try #require(detail["report"] as? [String: Any])
        #expect(report["requests"] as? Int == 32_500, "the integral of the ramp: \(report["requests"] ?? "-")")
        #expect(try nginx.accessLogLines(expecting: 32_500) == 32_500)
        let p99 = (report["latency_us"] as? [String: Any])?["p99"] as? Int ?? 0
        let serviceP99 = (report["service_time_us"] as? [String: Any])?["p99"] as? Int ?? .max
        #expect(p99 >= 500_000 && serviceP99 < p99 / 5, "corrected p99 \(p99) µs, service p99 \(serviceP99) µs")
    }

    @Test func distributedSearchFindsTheRateLimit() throws {
        let nginx = try rateLimitedNginx(rate: 2000)
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        let target = "http://127.0.0.1:\(nginx.port)/limited"
        let ws = try WebSocketListener(url: "ws://127.0.0.1:\(cluster.apiPort)/ws", seconds: 170, untilFinal: "search-1")
        try waitUntil(seconds: 15) { try websocketClients(cluster) == 1 }

        // Bad searches and stages are refused by field.
        let bad: [(body: String, field: String)] = [
            (#"{"test_type": "SEARCH", "target": "\#(target)", "slo": {"p98_ms": 5}}"#, "slo"),
            (#"{"test_type": "SEARCH", "target": "\#(target)"}"#, "slo"),
            (#"{"test_type": "SEARCH", "target": "\#(target)", "slo": {"p99_ms": 5}, "duration_s": 5}"#, "duration_s"),
            (#"{"test_type": "SEARCH", "target": "\#(target)", "slo": {"p99_ms": 5}, "step_s": 0}"#, "step_s"),
            (#"{"target": "\#(target)", "slo": {"p99_ms": 5}, "duration_s": 5}"#, "slo"),
            (#"{"test_type": "TSUNAMI", "target": "\#(target)", "stages": [{"duration_s": 0, "target": 5}]}"#, "stages[0].duration_s"),
            (#"{"test_type": "TSUNAMI", "target": "\#(target)", "stages": [{"duration_s": 5, "target": -5}]}"#, "stages[0].target"),
            (#"{"test_type": "TSUNAMI", "target": "\#(target)", "stages": [{"duration_s": 5, "target": 5}], "duration_s": 5}"#, "stages"),
            (#"{"target": "\#(target)", "stages": [{"duration_s": 5, "target": 5}], "connections": 5}"#, "connections"),
        ]
        for c in bad {
            let (status, answer) = try cluster.json("POST", "/tests", body: c.body)
            #expect(status == 400 && answer["field"] as? String == c.field, "\(c.body): \(status) \(answer)")
        }

        let started = Date()
        let (created, body) = try cluster.json("POST", "/tests", body: """
            {"test_id": "search-1", "test_type": "SEARCH", "target": "\(target)", "connections": 25,
             "slo": {"error_rate": 0.01}, "step_s": 4}
            """)
        #expect(created == 201, "\(body)")
        #expect(try cluster.json("POST", "/trigger", body: #"{"test_id": "search-1"}"#).0 == 202)
        let detail = try cluster.waitForTest("search-1", seconds: 170)
        #expect(Date().timeIntervalSince(started) < 150)
        let report = try #require(detail["report"] as? [String: Any])
        let search = try #require(report["search"] as? [String: Any], "\(report.keys)")
        let max = search["max_rate"] as? Double ?? 0
        #expect(abs(max - 2000) <= 200, "max_rate \(max): \(search["steps"] ?? "")")
        let steps = search["steps"] as? [[String: Any]] ?? []
        let (_, lines) = ws.finish()
        let live = lines.compactMap { try? jsonObject($0) }.filter { $0["type"] as? String == "search_step" }
        #expect(live.count == steps.count && !steps.isEmpty, "\(live.count) live steps, \(steps.count) in the report")
        #expect(detail["status"] as? String == "done")
    }
}
