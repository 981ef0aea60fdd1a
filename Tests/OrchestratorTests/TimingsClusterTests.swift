import Foundation
import Testing
import TestSupport

/// Timings through the whole system: two drivers over Kafka (Tansu) against nginx, one name
/// whose body is slow (receiving) and one that is quick. Each name's timing percentiles in the
/// report are Python hdrhistogram's merge of the two drivers' histograms, and /ws and /metrics
/// carry them.
@Suite(.serialized) struct TimingsClusterTests {
    @Test func timingPercentilesPerNameAreTheDriversHistogramsMerged() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("timings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(repeating: 0x62, count: 256 << 10).write(to: dir.appendingPathComponent("page.bin"))
        let nginx = try Nginx(locations: "location = /page { alias \(dir.path)/page.bin; limit_rate 1m; }")
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        let web = "http://127.0.0.1:\(nginx.port)"
        let config = """
            {"requests": [{"name": "page", "url": "\(web)/page"}, {"name": "ping", "url": "\(web)/ping"}],
             "connections": 4, "duration_s": 3, "thresholds": {"page:receiving_p99_ms": 1000, "waiting_p99_ms": 1}}
            """
        #expect(try cluster.startTest("tm-1", config) == 202)
        let (status, report, _) = try cluster.finishedTest("tm-1")
        #expect(status == "done", "\(report)")
        let byName = try #require(report["by_name"] as? [String: [String: Any]])
        let finals = try ["d1", "d2"].map { d in
            try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: cluster.reportsDirectory.appendingPathComponent("tm-1/drivers/\(d).json"))) as? [String: Any])
        }
        for name in ["page", "ping"] {
            for field in ["waiting_us", "receiving_us", "connect_us"] {
                let parts = finals.compactMap { ((($0["by_name"] as? [String: Any])?[name] as? [String: Any])?["timings"] as? [String: Any])?[field] as? String }
                guard !parts.isEmpty else {
                    #expect(byName[name]?[field] == nil, "\(name).\(field): no driver timed it, so the report has none")
                    continue
                }
                let merged = try python("merge", ["b64": parts, "percentiles": [50.0, 90, 99, 99.9]], as: PythonStats.self)
                let summary = byName[name]?[field] as? [String: Any] ?? [:]
                #expect(merged.values == ["p50", "p90", "p99", "p999"].map { Int64(summary[$0] as? Int ?? -1) }, "\(name).\(field): \(merged.values) vs \(summary)")
                #expect(merged.max == Int64(summary["max"] as? Int ?? -1) && merged.min == Int64(summary["min"] as? Int ?? -1), "\(name).\(field)")
                if field == "waiting_us" || field == "receiving_us" {
                    #expect(merged.total == Int64(byName[name]?["responses"] as? Int ?? -1), "\(name).\(field): one per response")
                }
            }
        }
        // 256 KiB at 1 MiB/s, of which nginx's limit_rate sends the first 32 KiB at once (seen as
        // 484 ms for 1 MiB at 2 MiB/s): (256 - 32) / 1024 s = 218.75 ms receiving, within 10 %.
        let pageReceiving = Double((byName["page"]?["receiving_us"] as? [String: Any])?["p50"] as? Int ?? 0) / 1000
        #expect(pageReceiving >= 197 && pageReceiving <= 241, "page receiving p50 \(pageReceiving) ms")
        // Every connection was opened once, under the name it first carried.
        let connects = (byName["page"]?["connects"] as? Int ?? 0) + (byName["ping"]?["connects"] as? Int ?? 0)
        #expect(connects == report["connects"] as? Int && connects == 8, "\(connects) connects")
        // Judged: the page's receiving p99 holds under 1 s; waiting p99 over 1 ms cannot be ruled out
        // on this VM, so only its presence and figure are checked.
        let results = (report["thresholds"] as? [String: Any])?["results"] as? [[String: Any]] ?? []
        let page = results.first { $0["name"] as? String == "page:receiving_p99_ms" }
        #expect(page?["passed"] as? Bool == true && (page?["actual"] as? Double ?? 0) > 200, "\(results)")
        let waiting = results.first { $0["name"] as? String == "waiting_p99_ms" }
        let reportedWaiting = Double((report["waiting_us"] as? [String: Any])?["p99"] as? Int ?? -1) / 1000
        #expect(abs((waiting?["actual"] as? Double ?? -1) - reportedWaiting) < 0.001, "\(results)")
        // /metrics: each phase's quantiles, per name.
        let (_, metrics) = try cluster.call("GET", "/metrics", body: nil, headers: [])
        #expect(metrics.contains(#"stampede_test_phase_seconds{test_id="tm-1",phase="receiving",name="page",quantile="0.99"}"#), "\(metrics.prefix(3000))")
        #expect(metrics.contains(#"stampede_test_phase_seconds_count{test_id="tm-1",phase="connect",name="page"}"#))
    }
}
