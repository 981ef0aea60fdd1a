import Foundation
import Testing
import TestSupport

/// The HTML report of a finished distributed test: served by the API, opened offline from
/// file:// in headless Chromium, re-rendered byte for byte by `stampede report`; and the live
/// feed's snapshot replays the seconds a late client missed.
@Suite(.serialized) struct ReportPageTests {
    @Test func reportPageIsSelfContainedAndMatchesTheReport() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        #expect(try cluster.startTest("page-1", """
            {"duration_s": 8, "connections": 4, "target": "http://127.0.0.1:\(nginx.port)/"}
            """) == 202)
        // A client that connects 5 s in gets the seconds so far in its snapshot.
        try cluster.waitForProgress("page-1", seconds: 5)
        let late = try WebSocketListener(url: "ws://127.0.0.1:\(cluster.apiPort)/ws", seconds: 4)
        let detail = try cluster.waitForTest("page-1")
        let (_, lines) = late.finish()
        let messages = lines.compactMap { try? jsonObject($0) }
        let snapshot = messages.first ?? [:]
        #expect(snapshot["type"] as? String == "snapshot")
        let replayed = (snapshot["intervals"] as? [String: [[String: Any]]])?["page-1"] ?? []
        #expect(replayed.count >= 4, "seconds in the snapshot: \(replayed.count)")
        let live = messages.filter { $0["type"] as? String == "interval" }
        #expect(live.contains { ($0["spectrum"] as? [[Double]])?.isEmpty == false }, "the percentile chart is live")

        let report = try #require(detail["report"] as? [String: Any])
        let (status, page) = try cluster.api("GET", "/tests/page-1/report.html")
        #expect(status == 200 && page.hasPrefix("<!doctype html>"))
        let dir = cluster.reportsDirectory.appendingPathComponent("page-1")
        let file = dir.appendingPathComponent("report.html")
        #expect(try String(contentsOf: file, encoding: .utf8) == page)

        // Offline in Chromium: no failed loads, no console errors, every chart drawn.
        let chromium = try HeadlessChromium(windowSize: "1280,1400")
        defer { chromium.stop() }
        let out = try chromium.drive("cdp_report.py", [file.absoluteString])
        #expect(out.status == 0, "\(out.stderr)")
        let seen = try jsonObject(out.stdout)
        #expect(seen["loaded"] as? Bool == true)
        #expect((seen["problems"] as? [String])?.isEmpty == true, "\(seen["problems"] ?? "")")
        #expect((seen["failed"] as? [String])?.isEmpty == true, "\(seen["failed"] ?? "")")
        #expect((seen["charts"] as? Int ?? 0) >= 4, "charts drawn: \(seen["charts"] ?? 0)")
        let text = seen["text"] as? String ?? ""
        let p99 = String(format: "%.3f", Double((report["latency_us"] as? [String: Any])?["p99"] as? Int ?? -1) / 1000)
        #expect(text.contains("page-1") && text.contains(String(report["requests"] as? Int ?? -1)) && text.contains(p99),
                "p99 \(p99) ms, requests \(report["requests"] ?? "-") in: \(text.prefix(600))")
        let connectP99 = String(format: "%.3f", Double((report["connect_time_us"] as? [String: Any])?["p99"] as? Int ?? -1) / 1000)
        #expect(text.contains("connect phase") && text.contains(connectP99), "connect p99 \(connectP99) ms")
        // Where the time goes: the table's waiting p99 is the report's, under a bar of each percentile.
        let waitingP99 = String(format: "%.3f", Double((report["waiting_us"] as? [String: Any])?["p99"] as? Int ?? -1) / 1000)
        #expect(text.contains("Where the time goes") && text.contains(waitingP99), "waiting p99 \(waitingP99) ms")
        #expect(page.contains(#"data-bars="2""#) && page.contains(#"data-phase="waiting""#))

        // `stampede report DIR` renders the same bytes from the same files.
        let again = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-again-\(UUID().uuidString).html")
        let rendered = try runCommand(stampedeBinary, ["report", dir.path, "--output", again.path])
        #expect(rendered.status == 0, "\(rendered.stderr)")
        #expect(try Data(contentsOf: again) == Data(contentsOf: file))
        let missing = try runCommand(stampedeBinary, ["report", "/nonexistent/dir"])
        #expect(missing.status == 2 && missing.stderr.contains("report.json"), "\(missing.stderr)")
    }
}
