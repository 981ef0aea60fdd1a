import Foundation
import Testing
import TestSupport

/// Faults the whole system must ride out, with real processes: a broker lost and restarted empty,
/// a broker that never comes back, an orchestrator killed mid-test, a driver killed in a
/// count-based test.
@Suite(.serialized) struct FaultTests {
    /// A finished test that must be whole: done, not partial, every request answered, nginx's log
    /// equal to the report, and at least `seconds` seconds in `latency.hlog` adding up to it.
    func expectWhole(_ cluster: Cluster, _ nginx: Nginx, _ id: String, requests expected: Int, seconds: Int) throws {
        let (status, report, _) = try cluster.finishedTest(id, seconds: 60)
        #expect(status == "done")
        #expect(report["partial"] as? Bool == false, "\(report["failed_drivers"] ?? "")")
        let requests = report["requests"] as? Int ?? 0
        #expect(abs(requests - expected) <= expected / 100, "requests \(requests)")
        // A timed tsunami intends exactly rate × duration over its drivers; what it sent and what
        // it could not send add up to that.
        #expect(report["intended"] as? Int == expected && requests + (report["unsent"] as? Int ?? -1) == expected,
                "intended \(report["intended"] ?? "-"), unsent \(report["unsent"] ?? "-")")
        #expect(report["responses"] as? Int == requests)
        #expect(try nginx.accessLogLines(expecting: requests) == requests)
        let log = try cluster.latencyLog(id)
        #expect(log.total == Int64(requests) && log.intervals.count >= seconds, "\(log.intervals)")
    }

    @Test func aBrokerKilledAndRestartedEmptyIsRiddenOutWithNothingLost() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        #expect(try cluster.startTest("restart-1", """
            {"test_type": "TSUNAMI", "rate": 400, "duration_s": 10, "connections": 2, "target": "http://127.0.0.1:\(nginx.port)/"}
            """) == 202)
        try cluster.waitForProgress("restart-1", seconds: 3)
        cluster.broker.kill()  // in-memory storage: the topics and their messages are gone
        sleep(3)  // the fault: 3 s without a broker
        try cluster.broker.start()
        // Every second of both drivers arrives, including those sent while the broker was away.
        try expectWhole(cluster, nginx, "restart-1", requests: 4_000, seconds: 10)
        // And the system still works: a second test after the restart.
        try waitUntil(seconds: 20) { try cluster.idleDrivers() == 2 }
        #expect(try cluster.startTest("restart-2", """
            {"test_type": "AVALANCHE", "message_count_per_driver": 500, "connections": 2, "target": "http://127.0.0.1:\(nginx.port)/"}
            """) == 202)
        #expect(try cluster.finishedTest("restart-2", seconds: 30).report["requests"] as? Int == 1_000)
    }

    @Test func aBrokerThatNeverComesBackFailsTheTestWithAClearError() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 1, extraArguments: ["--bus-timeout-ms", "4000"])
        defer { cluster.stop() }
        #expect(try cluster.startTest("gone-1", """
            {"test_type": "TSUNAMI", "rate": 100, "duration_s": 30, "connections": 1, "target": "http://127.0.0.1:\(nginx.port)/"}
            """) == 202)
        try cluster.waitForProgress("gone-1", seconds: 3)
        let killedAt = Date()
        cluster.broker.kill()
        let (status, report, detail) = try cluster.finishedTest("gone-1", seconds: 20)
        let after = Date().timeIntervalSince(killedAt)
        #expect(status == "failed")
        // The timeout counts from the last probe the bus delivered (sent every 250 ms).
        #expect(after >= 3.5 && after <= 8, "failed \(after) s after the broker died")
        let error = detail["error"] as? String ?? ""
        #expect(error.contains("Kafka bus") && error.contains("cannot complete"), "\(error)")
        #expect(report["partial"] as? Bool == true)
        #expect((report["requests"] as? Int ?? 0) >= 100, "what arrived before the loss is kept")
        #expect(report["error"] as? String == error)
    }

    @Test func anOrchestratorKilledMidTestIsRestartedAndWritesTheWholeReport() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        #expect(try cluster.startTest("crash-1", """
            {"test_type": "TSUNAMI", "rate": 200, "duration_s": 6, "connections": 2, "target": "http://127.0.0.1:\(nginx.port)/"}
            """) == 202)
        try cluster.waitForProgress("crash-1", seconds: 3)
        cluster.killOrchestrator()
        sleep(6)  // the fault: 6 s without an orchestrator; the drivers finish meanwhile, their messages wait in Kafka
        try cluster.restartOrchestrator()
        try expectWhole(cluster, nginx, "crash-1", requests: 1_200, seconds: 6)
        // The restarted orchestrator knows the test list and its drivers again.
        #expect(try cluster.api("GET", "/tests").1.contains("crash-1"))
        try waitUntil(seconds: 10) { try cluster.idleDrivers() == 2 }
    }

    @Test func aDriverKilledInACountBasedTestHasItsUnsentShareSentBySurvivors() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 3, heartbeatTimeoutMs: 2_000)
        defer { cluster.stop() }
        // 100 req/s per driver, 600 each: 6 s of work per driver.
        #expect(try cluster.startTest("handover-1", """
            {"test_type": "TSUNAMI", "rate": 300, "message_count_per_driver": 600, "connections": 2,
             "target": "http://127.0.0.1:\(nginx.port)/"}
            """) == 202)
        try cluster.waitForProgress("handover-1", seconds: 3, requests: 600)
        cluster.killDriver("d2")
        let (status, report, _) = try cluster.finishedTest("handover-1", seconds: 40)
        #expect(status == "done")
        #expect(report["partial"] as? Bool == true)
        #expect(report["failed_drivers"] as? [String] == ["d2"])
        // The full count: what d2 reported before it died plus what the survivors sent for it.
        #expect(report["requests"] as? Int == 1_800)
        // d2's requests still in flight when it died (at most its 2 connections) have no response.
        let responses = report["responses"] as? Int ?? 0
        #expect(responses >= 1_798 && responses <= 1_800, "responses \(responses)")
        let handovers = try #require(report["redistributed"] as? [[String: Any]])
        #expect(handovers.count == 1)
        let handover = try #require(handovers.first)
        #expect(handover["from"] as? String == "d2")
        let to = handover["to"] as? [String: Int] ?? [:]
        #expect(Set(to.keys) == ["d1", "d3"], "\(to)")
        let moved = handover["requests"] as? Int ?? 0
        // d2 ran ~2 s of its 6 before the kill; how many of those seconds it reported is a race.
        #expect(to.values.reduce(0, +) == moved && moved > 0 && moved < 600, "moved \(moved)")
        // The target saw the full count, plus at most d2's last unreported second (100 req/s).
        let lines = try nginx.accessLogLines(expecting: 1_800)
        #expect(lines >= 1_800 && lines <= 1_800 + 110, "nginx saw \(lines)")
        let drivers = cluster.reportsDirectory.appendingPathComponent("handover-1/drivers")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: drivers.path)) ?? []
        #expect(Set(files) == ["d1.json", "d3.json", "d1.part2.json", "d3.part3.json"], "\(files)")
    }
}
