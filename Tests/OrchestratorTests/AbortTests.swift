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
}
