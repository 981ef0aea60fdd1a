import Foundation
import Testing
import TestSupport

/// Sessions through the whole system: POST /tests, Kafka (Tansu), drivers, against the shop
/// (Tests/Interop/shop.py), whose log is the truth the report is held to.
@Suite(.serialized) struct SessionClusterTests {
    static func visit(_ base: String, think: Int = 0) -> String {
        let pause = think > 0 ? #", "think_ms": \#(think)"# : ""
        return """
            [{"name": "login", "method": "POST", "url": "\(base)/login", "body": "u={{session}}", "capture": {"csrf": {"json": "csrf"}},
              "expect_status": [200]\(pause)},
             {"name": "cart", "method": "POST", "url": "\(base)/cart", "headers": {"X-CSRF": "{{var.csrf}}"}, "expect_status": [200]}]
            """
    }

    /// Two drivers share the sessions; each session's requests carry its own cookie and token
    /// (every cart accepted), the redirect hops are requests of their own, and the report's
    /// counts equal the site's log. The sessions' durations are the drivers' histograms merged.
    @Test func sessionsOverKafkaWithTwoDriversEqualTheSitesLog() throws {
        let shop = try Shop()
        defer { shop.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        #expect(try cluster.startTest("visits-1", """
            {"test_type": "AVALANCHE", "order": "sequence", "follow_redirects": 1, "message_count_per_driver": 150,
             "connections": 3, "requests": \(Self.visit(shop.base)), "thresholds": {"session_error_rate": 0}}
            """) == 202)
        let (status, report, _) = try cluster.finishedTest("visits-1", seconds: 60)
        #expect(status == "done")
        #expect(report["requests"] as? Int == 300 && report["responses"] as? Int == 300)
        let lines = try shop.lines(expecting: 300)
        #expect(lines.count == 300)
        let sessions = try #require(report["sessions"] as? [String: Any])
        let logins = lines.filter { $0.path == "/login" }, hops = lines.filter { $0.path == "/account" }
        let carts = lines.filter { $0.path == "/cart" }
        #expect(sessions["started"] as? Int == logins.count && sessions["completed"] as? Int == carts.count, "\(sessions)")
        #expect(carts.allSatisfy { $0.status == 200 } && hops.allSatisfy { $0.status == 200 && $0.sid != "-" })
        #expect(Set(carts.map(\.csrf)).count == carts.count)
        let byName = report["by_name"] as? [String: [String: Any]] ?? [:]
        #expect(byName["login redirect"]?["requests"] as? Int == hops.count)
        let thresholds = report["thresholds"] as? [String: Any] ?? [:]
        #expect(thresholds["passed"] as? Bool == true, "\(thresholds)")

        // The merged session histogram is the drivers' merged (Python's hdrhistogram).
        let dir = cluster.reportsDirectory.appendingPathComponent("visits-1")
        let finals = try ["d1", "d2"].map { d -> String in
            let f = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("drivers/\(d).json"))) as! [String: Any]
            return try #require((f["sessions"] as? [String: Any])?["duration_histogram"] as? String)
        }
        let merged = try python("merge", ["b64": finals, "percentiles": [50.0, 99]], as: PythonStats.self)
        let duration = try #require(sessions["duration_us"] as? [String: Any])
        #expect(merged.total == Int64(carts.count))
        #expect(merged.values == [duration["p50"] as? Int, duration["p99"] as? Int].map { Int64($0 ?? -1) })
        let hlog = try String(contentsOf: dir.appendingPathComponent("latency.hlog"), encoding: .utf8)
        #expect(hlog.contains("Tag=session,"))
    }

    /// A driver killed mid-test: its unsent requests go to the survivors as sessions of their
    /// own, the report is partial and counts what the site saw, give or take the killed driver's
    /// last second that it never reported.
    @Test func aDriverKilledMidTestLeavesTheCountsOfTheSite() throws {
        let shop = try Shop()
        defer { shop.stop() }
        let cluster = try Cluster(drivers: 3, heartbeatTimeoutMs: 2_000)
        defer { cluster.stop() }
        #expect(try cluster.startTest("visits-2", """
            {"test_type": "AVALANCHE", "order": "sequence", "follow_redirects": 1, "message_count_per_driver": 450, "connections": 2,
             "requests": \(Self.visit(shop.base, think: 40))}
            """) == 202)
        do { try cluster.waitForProgress("visits-2", seconds: 2, requests: 150) } catch {
            Issue.record("\(try cluster.json("GET", "/tests/visits-2").1)")
            throw error
        }
        cluster.killDriver("d2")
        let (status, report, _) = try cluster.finishedTest("visits-2", seconds: 60)
        #expect(status == "done" && report["partial"] as? Bool == true)
        #expect(report["failed_drivers"] as? [String] == ["d2"])
        #expect(report["requests"] as? Int == 1_350)
        let lines = try shop.lines(expecting: 1_350)
        // d2's last, unreported second (2 connections: about 90 requests) and its requests in flight.
        #expect(lines.count >= 1_350 && lines.count <= 1_350 + 120, "the site saw \(lines.count)")
        let sessions = try #require(report["sessions"] as? [String: Any])
        let logins = lines.filter { $0.path == "/login" }.count
        let started = sessions["started"] as? Int ?? 0
        #expect(started <= logins && logins - started <= 40, "\(started) started, \(logins) logins")
        #expect((sessions["completed"] as? Int ?? 0) > 0 && sessions["failed_total"] as? Int == 0, "\(sessions)")
        // The survivors' sessions, the handed-over ones too, carried their own tokens.
        #expect(lines.filter { $0.path == "/cart" }.allSatisfy { $0.status == 200 })
    }

    /// `stampede run` (two drivers in one process): the open model's session rate split over the
    /// drivers, exactly rate × duration arrivals, each session's requests accepted by the site,
    /// and the session threshold judged on the merged sessions.
    @Test func runSplitsTheSessionRateOverItsDrivers() throws {
        let shop = try Shop()
        defer { shop.stop() }
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: reports) }
        let visit = try temporaryFile("run-visit.json", Self.visit(shop.base))
        let run = try runCommand(stampedeBinary, ["run", "--targets", visit, "--order", "sequence", "--follow-redirects", "1",
                                                  "--mode", "tsunami", "--session-rate", "30", "--connections", "4", "--duration", "3",
                                                  "--drivers", "2", "--threshold", "session_error_rate=0", "--json",
                                                  "--reports-dir", reports.path], timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try jsonObject(run.stdout)
        let sessions = try #require(report["sessions"] as? [String: Any])
        #expect((sessions["started"] as? Int ?? 0) + (sessions["dropped"] as? Int ?? 0) == 90, "\(sessions)")
        #expect(sessions["failed_total"] as? Int == 0 && sessions["started"] as? Int == sessions["completed"] as? Int)
        let lines = try shop.lines(expecting: report["requests"] as? Int ?? 0)
        #expect(lines.count == report["requests"] as? Int)
        #expect(lines.filter { $0.path == "/cart" }.allSatisfy { $0.status == 200 })
        let results = (report["thresholds"] as? [String: Any])?["results"] as? [[String: Any]] ?? []
        #expect(results.first?["name"] as? String == "session_error_rate" && results.first?["passed"] as? Bool == true, "\(results)")
    }
}
