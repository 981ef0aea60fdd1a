import Foundation
import Testing
import TestSupport

func websocketClients(_ cluster: Cluster) throws -> Int {
    let (_, text) = try cluster.api("GET", "/metrics")
    let line = text.split(separator: "\n").first { $0.hasPrefix("stampede_websocket_clients ") }
    return Int(line?.split(separator: " ").last ?? "0") ?? 0
}

/// The whole system with real processes: Tansu, the orchestrator, three drivers, nginx with its
/// access log on, and a Python `websockets` client.
@Suite(.serialized) struct EndToEndTests {
    @Test func originalAvalancheIsExactAndItsPercentilesAreMergedNotAveraged() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 3)
        defer { cluster.stop() }
        let ws = try WebSocketListener(url: "ws://127.0.0.1:\(cluster.apiPort)/ws", seconds: 90, untilFinal: "classic-1")
        try waitUntil(seconds: 15) { try websocketClients(cluster) == 1 }

        let (created, body) = try cluster.json("POST", "/tests", body: """
            {"test_id": "classic-1", "test_type": "avalanche", "message_count_per_driver": 20000,
             "target": "http://127.0.0.1:\(nginx.port)/", "connections": 10}
            """)
        #expect(created == 201 && body["test_id"] as? String == "classic-1")
        let (triggered, answer) = try cluster.json("POST", "/trigger", body: #"{"test_id": "classic-1"}"#)
        #expect(triggered == 202 && answer["status"] as? String == "running")
        let (again, _) = try cluster.json("POST", "/trigger", body: #"{"test_id": "classic-1"}"#)
        #expect(again == 409)

        let detail = try cluster.waitForTest("classic-1")
        #expect(detail["status"] as? String == "done")
        let report = try #require(detail["report"] as? [String: Any])
        #expect(report["requests"] as? Int == 60_000 && report["responses"] as? Int == 60_000)
        #expect(report["partial"] as? Bool == false)
        #expect(try nginx.accessLogLines(expecting: 60_000) == 60_000)

        // The report's percentiles are those of the three drivers' histograms merged (Python).
        let dir = cluster.reportsDirectory.appendingPathComponent("classic-1")
        let onDisk = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("report.json"))) as! [String: Any]
        let driverHistograms = try (1...3).map { i -> String in
            let d = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("drivers/d\(i).json"))) as! [String: Any]
            return d["histogram"] as! String
        }
        let merged = try python("merge", ["b64": driverHistograms, "percentiles": [50.0, 90, 99, 99.9]], as: PythonStats.self)
        let latency = onDisk["latency_us"] as! [String: Any]
        #expect(merged.total == 60_000)
        #expect(merged.values == ["p50", "p90", "p99", "p999"].map { Int64(latency[$0] as! Int) })
        #expect(merged.max == Int64(latency["max"] as! Int) && merged.min == Int64(latency["min"] as! Int))
        #expect(abs(merged.mean - (latency["mean"] as! Double)) < 0.1)

        struct Log: Decodable { let intervals: [Int64]; let total: Int64 }
        let log = try python("readlog", ["path": dir.appendingPathComponent("latency.hlog").path, "percentiles": [50.0]], as: Log.self)
        #expect(log.total == 60_000 && log.intervals.reduce(0, +) == 60_000)

        // Each driver opened its 10 connections before the start: the connect times merged.
        let connectHistograms = try (1...3).map { i -> String in
            let d = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("drivers/d\(i).json"))) as! [String: Any]
            return try #require(d["connect_histogram"] as? String)
        }
        let connects = try python("merge", ["b64": connectHistograms, "percentiles": [50.0, 99]], as: PythonStats.self)
        let connectTime = try #require(onDisk["connect_time_us"] as? [String: Any])
        #expect(connects.total == 30 && connects.values == [connectTime["p50"] as? Int, connectTime["p99"] as? Int].map { Int64($0 ?? -1) })
        #expect(onDisk["connect_phase_errors"] as? Int == 0 && (onDisk["connect_phase_s"] as? Double ?? 9) < 1, "\(onDisk["connect_phase_s"] ?? "-")")

        let (_, lines) = ws.finish()
        let messages = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(messages.first?["type"] as? String == "snapshot")
        let intervals = messages.filter { $0["type"] as? String == "interval" }
        #expect(!intervals.isEmpty)
        #expect(intervals.map { $0["requests"] as? Int ?? 0 }.reduce(0, +) == 60_000)
        let final = messages.first { $0["type"] as? String == "final" }
        #expect((final?["report"] as? [String: Any])?["responses"] as? Int == 60_000)
        #expect(cluster.stopOrchestrator() == 0)
    }

    @Test func originalTsunamiSendsExactlyItsCountAtItsPace() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 3)
        defer { cluster.stop() }
        _ = try cluster.json("POST", "/tests", body: """
            {"test_id": "tsu-1", "test_type": "TSUNAMI", "test_message_delay": 10, "message_count_per_driver": 300,
             "connections": 2, "target": "http://127.0.0.1:\(nginx.port)/"}
            """)
        #expect(try cluster.json("POST", "/trigger", body: #"{"test_id": "tsu-1"}"#).0 == 202)
        let report = try #require(try cluster.waitForTest("tsu-1")["report"] as? [String: Any])
        #expect(report["requests"] as? Int == 900 && report["responses"] as? Int == 900)
        let duration = report["duration_s"] as? Double ?? 0
        #expect(duration > 1.3 && duration < 2.0, "duration \(duration) s")
        #expect(try nginx.accessLogLines(expecting: 900) == 900)
    }

    @Test func aKilledDriverFailsWithinTheTimeoutAndTheTestCompletesPartial() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 3, heartbeatTimeoutMs: 2_000)
        defer { cluster.stop() }
        _ = try cluster.json("POST", "/tests", body: """
            {"test_id": "kill-1", "test_type": "AVALANCHE", "duration_s": 6, "connections": 4, "target": "http://127.0.0.1:\(nginx.port)/"}
            """)
        #expect(try cluster.json("POST", "/trigger", body: #"{"test_id": "kill-1"}"#).0 == 202)
        try cluster.waitForProgress("kill-1", seconds: 3)
        let killedAt = Date()
        cluster.killDriver("d2")
        var failedAfter = -1.0
        try waitUntil(seconds: 10) {
            let (_, text) = try cluster.api("GET", "/drivers")
            let list = (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]) ?? []
            if list.contains(where: { $0["id"] as? String == "d2" && $0["state"] as? String == "failed" }) {
                failedAfter = Date().timeIntervalSince(killedAt)
                return true
            }
            return false
        }
        #expect(failedAfter >= 1.5 && failedAfter <= 3.0, "marked failed after \(failedAfter) s")
        let detail = try cluster.waitForTest("kill-1", seconds: 30)
        #expect(detail["status"] as? String == "done")
        let report = try #require(detail["report"] as? [String: Any])
        #expect(report["partial"] as? Bool == true)
        #expect(report["failed_drivers"] as? [String] == ["d2"])
        #expect((report["responses"] as? Int ?? 0) > 0)
    }

    /// POST /tests/{id}/stop ends a long test early: the drivers stop sending, the requests in
    /// flight finish, and the report (interrupted) counts exactly what nginx logged.
    @Test func aRunningTestStopsOnRequestAndItsReportHoldsAllItSent() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        let target = "http://127.0.0.1:\(nginx.port)/"
        #expect(try cluster.startTest("stop-1", #"{"test_type": "TSUNAMI", "rate": 400, "duration_s": 120, "connections": 4, "target": "\#(target)"}"#) == 202)
        try cluster.waitForProgress("stop-1", seconds: 2)
        let (stopped, answer) = try cluster.json("POST", "/tests/stop-1/stop")
        #expect(stopped == 202 && answer["status"] as? String == "stopping", "\(answer)")
        let started = Date()
        let detail = try cluster.waitForTest("stop-1", seconds: 20)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(detail["status"] as? String == "done")
        let report = try #require(detail["report"] as? [String: Any])
        let requests = report["requests"] as? Int ?? 0
        #expect(report["interrupted"] as? Bool == true && (report["duration_s"] as? Double ?? 0) < 30, "\(report)")
        #expect(requests >= 400 && report["responses"] as? Int == requests, "\(report)")
        #expect(try nginx.accessLogLines(expecting: requests) == requests)
        // Both drivers are free again; a stopped test cannot be stopped twice, nor an unknown one.
        try waitUntil(seconds: 10) { try cluster.idleDrivers() == 2 }
        #expect(try cluster.json("POST", "/tests/stop-1/stop").0 == 409)
        #expect(try cluster.json("POST", "/tests/nope/stop").0 == 404)
    }

    @Test func aBrokerPausedMidTestLosesNoMetricsAndFailsNoDriver() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        _ = try cluster.json("POST", "/tests", body: """
            {"test_id": "pause-1", "test_type": "TSUNAMI", "rate": 400, "duration_s": 8, "connections": 2,
             "target": "http://127.0.0.1:\(nginx.port)/"}
            """)
        #expect(try cluster.json("POST", "/trigger", body: #"{"test_id": "pause-1"}"#).0 == 202)
        try cluster.waitForProgress("pause-1", seconds: 3)
        cluster.broker.pause()
        sleep(5)  // the fault: 5 s without a broker
        cluster.broker.resume()
        let detail = try cluster.waitForTest("pause-1", seconds: 60)
        #expect(detail["status"] as? String == "done")
        let report = try #require(detail["report"] as? [String: Any])
        #expect(report["partial"] as? Bool == false, "\(report["failed_drivers"] ?? "")")
        let requests = report["requests"] as? Int ?? 0
        #expect(abs(requests - 3_200) <= 40, "requests \(requests)")
        #expect(report["responses"] as? Int == requests)
        #expect(try nginx.accessLogLines(expecting: requests) == requests)
        // Every second of both drivers arrived: the per-second log adds up to the whole test.
        let log = try cluster.latencyLog("pause-1")
        #expect(log.total == Int64(requests) && log.intervals.count >= 8)
    }
}
