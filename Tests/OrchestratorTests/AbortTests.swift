import Foundation
import Testing
import TestSupport

/// A threshold with `abort_on_fail`, judged on the whole fleet each second, stops a test that
/// hurts its target: over Kafka, two drivers, nginx refusing past a known rate.
@Suite(.serialized) struct AbortTests {
    @Test func anErrorRateThresholdStopsEveryDriverWithinTwoSecondsOfFailing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-abort-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("ok.txt")
        try Data("ok".utf8).write(to: page)
        // Over 300 requests/s (both drivers together: they share one address) nginx answers 503.
        let nginx = try Nginx(httpSettings: "limit_req_zone $binary_remote_addr zone=one:1m rate=300r/s;",
                              locations: "location = /limited { limit_req zone=one burst=20 nodelay; limit_req_status 503; alias \(page.path); }",
                              logFormat: "$msec $status")
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        // A ramp from 100 to 1,000 requests/s over 20 s passes 300 about 4.4 s in; the error
        // rate of the whole test so far passes 5 % a little later.
        let status = try cluster.startTest("abort-1", #"""
            {"test_type": "TSUNAMI", "target": "http://127.0.0.1:\#(nginx.port)/limited", "connections": 20,
             "start": 100, "stages": [{"duration_s": 20, "target": 1000}],
             "thresholds": {"p99_ms": 1000, "error_rate": {"limit": 0.05, "abort_on_fail": true}}}
            """#)
        #expect(status == 202)
        let detail = try cluster.waitForTest("abort-1", seconds: 60)
        let report = try #require(detail["report"] as? [String: Any])
        let aborted = try #require(report["aborted"] as? [String: Any], "\(report)")
        let atS = try #require(aborted["at_s"] as? Double)
        #expect(aborted["threshold"] as? String == "error_rate" && aborted["scenario"] as? String == "default", "\(aborted)")
        #expect(atS >= 4 && atS < 15, "\(aborted)")
        #expect((aborted["value"] as? Double ?? 0) > 0.05 && aborted["limit"] as? Double == 0.05, "\(aborted)")
        #expect(report["partial"] as? Bool == true && report["interrupted"] as? Bool == true, "\(report)")
        #expect((report["duration_s"] as? Double ?? 99) < atS + 3, "\(report)")
        // Every request counted, and none sent later than 2 s after the second that failed ended.
        let requests = report["requests"] as? Int ?? 0
        let lines = try nginx.accessLog(expecting: requests)
        #expect(lines.count == requests && report["responses"] as? Int == requests, "\(lines.count) logged, \(report)")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let start = try #require(formatter.date(from: report["started_at"] as? String ?? "")).timeIntervalSince1970
        let last = lines.compactMap { $0.split(separator: " ").first.flatMap { Double($0) } }.max() ?? 0
        #expect(last - start <= atS + 2, "last request \(last - start) s in, the failing second ended at \(atS) s")
        // The verdict in the report is the end's, and the JUnit file names the abort.
        let (xmlStatus, xml) = try cluster.call("GET", "/tests/abort-1/junit.xml", body: nil, headers: [])
        #expect(xmlStatus == 200 && xml.contains(#"<failure type="aborted""#) && xml.contains("error_rate"), "\(xml)")
    }

    /// The live verdict of second t is the thresholds judged on seconds 1...t exactly: each
    /// interval's p50 and p99 states equal Python hdrhistogram's merge of latency.hlog's first t
    /// seconds (the report's per-second histograms), two drivers over Kafka.
    @Test func eachSecondsVerdictEqualsTheOneRecomputedFromThePerSecondHistograms() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        let listener = try WebSocketListener(url: "ws://127.0.0.1:\(cluster.apiPort)/ws", seconds: 60, untilFinal: "verdicts")
        usleep(500_000)
        #expect(try cluster.startTest("verdicts", """
            {"target": "http://127.0.0.1:\(nginx.port)/", "test_type": "TSUNAMI", "rate": 400, "connections": 4, "duration_s": 5,
             "thresholds": {"p50_ms": 0.05, "p99_ms": 1000}}
            """) == 202)
        let (status, _, _) = try cluster.finishedTest("verdicts", seconds: 60)
        #expect(status == "done")
        let (_, lines) = listener.finish()
        struct State: Decodable { let name: String; let value: Double }
        struct Event: Decodable { let type: String; let t: Int?; let thresholds: [State]?; let late_drivers: [String]? }
        let events = lines.compactMap { try? JSONDecoder().decode(Event.self, from: Data($0.utf8)) }.filter { $0.type == "interval" }
        let hlog = cluster.reportsDirectory.appendingPathComponent("verdicts/latency.hlog").path
        let recomputed = try python("cumulative", ["path": hlog, "percentiles": [50.0, 99.0]], as: [[Int64]].self)
        #expect(events.count >= 5 && recomputed.count >= 5, "\(events.count) intervals, \(recomputed.count) seconds in the log")
        var compared = 0
        for e in events where e.late_drivers == nil {
            guard let t = e.t, t <= recomputed.count, let states = e.thresholds else { continue }
            let live = Dictionary(uniqueKeysWithValues: states.map { ($0.name, $0.value) })
            #expect(live["p50_ms"] == Double(recomputed[t - 1][0]) / 1000 && live["p99_ms"] == Double(recomputed[t - 1][1]) / 1000,
                    "second \(t): live \(live), recomputed \(recomputed[t - 1]) µs")
            compared += 1
        }
        #expect(compared >= 5, "seconds compared: \(compared)")
    }
}
