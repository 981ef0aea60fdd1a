import Foundation
import Testing
import TestSupport

/// Faults between hosts: the broker, the orchestrator, the drivers and nginx each on a test host
/// of its own (network namespaces on one bridge, scripts/hosts.sh), links cut, lossy and slow.
/// Each test names what it breaks and checks what survives against nginx's access log, which
/// says which driver sent each request (each driver host has its own addresses).
@Suite(.serialized, .enabled(if: TestHosts.unavailable == nil, "test hosts need root, iproute2, nftables and network namespaces"))
struct HostFaultTests {
    /// A driver's final share as stored in drivers/<id>.json.
    func driverRequests(_ cluster: HostCluster, _ test: String, _ driver: String) throws -> Int {
        let url = cluster.reportsDirectory.appendingPathComponent("\(test)/drivers/\(driver).json")
        let f = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
        return f["requests"] as? Int ?? -1
    }

    /// Waits until a finished test's report says what its failed driver sent after it was failed
    /// (the driver's final arrives once it reaches the broker again); returns that report.
    func reportWithLateFinal(_ cluster: HostCluster, _ test: String, of driver: String, seconds: Double = 40) throws -> [String: Any] {
        var report: [String: Any] = [:]
        try waitUntil(seconds: seconds) {
            report = try cluster.json("GET", "/tests/\(test)").1["report"] as? [String: Any] ?? [:]
            return (report["sent_after_failure"] as? [String: Int])?[driver] != nil
        }
        return report
    }

    @Test func aDriverCutFromTheBrokerFor10sIsFailedInTimeCountedOnceAndRejoinsIdle() throws {
        let cluster = try HostCluster(drivers: 3, heartbeatTimeoutMs: 3_000)
        defer { cluster.stop() }
        #expect(try cluster.startTest("cut-1", """
            {"test_type": "TSUNAMI", "rate": 300, "duration_s": 30, "connections": 2, "target": "\(cluster.targetURL)"}
            """) == 202)
        try cluster.waitForProgress("cut-1", seconds: 8, requests: 1_500)
        try cluster.hosts.cut("d1", from: "broker")
        let cutAt = Date()
        try waitUntil(seconds: 10) { try cluster.driverList()["d1"]?["state"] as? String == "failed" }
        // Silence counts from its last heartbeat (sent every second) and is checked every 250 ms.
        let detected = Date().timeIntervalSince(cutAt)
        #expect(detected >= 1.8 && detected <= 5.0, "d1 marked failed \(detected) s after the cut")
        usleep(UInt32(max(0, 10 - Date().timeIntervalSince(cutAt)) * 1_000_000))
        try cluster.hosts.heal("d1")

        let (status, _, _) = try cluster.finishedTest("cut-1", seconds: 60)
        #expect(status == "done")
        let report = try reportWithLateFinal(cluster, "cut-1", of: "d1")
        #expect(report["partial"] as? Bool == true)
        #expect(report["failed_drivers"] as? [String] == ["d1"])
        let requests = report["requests"] as? Int ?? 0
        let late = (report["sent_after_failure"] as? [String: Int])?["d1"] ?? -1
        // Counted: d2's and d3's finals and what d1 reported before it was failed, each once.
        let d2 = try driverRequests(cluster, "cut-1", "d2"), d3 = try driverRequests(cluster, "cut-1", "d3")
        let d1Counted = requests - d2 - d3
        #expect(d1Counted >= 700 && d1Counted <= 1_200, "d1 counted \(d1Counted)")
        // The hlog holds the responses counted (a request d1 reported sending may have had its
        // response in a second it could not report).
        let responses = report["responses"] as? Int ?? 0
        #expect(responses >= requests - 2 && responses <= requests, "responses \(responses), requests \(requests)")
        #expect(try cluster.latencyLog("cut-1").total == Int64(responses))
        // d1 kept sending to the target while cut from the broker; what it sent after its counted
        // seconds is declared, so nginx's log adds up exactly.
        let log = try cluster.targetLog(expecting: requests + late)
        #expect(log.count == requests + late, "nginx \(log.count), report \(requests) + sent_after_failure \(late)")
        #expect(HostCluster.lines(log, ofDriver: 1) == d1Counted + late)
        #expect(HostCluster.lines(log, ofDriver: 2) == d2 && HostCluster.lines(log, ofDriver: 3) == d3)
        #expect(late > 0)
        let orchestratorLog = cluster.orchestratorLog()
        #expect(orchestratorLog.contains("driver failed during test") && orchestratorLog.contains("sent_after_failure"))

        // Back, idle, and used by the next test.
        try waitUntil(seconds: 20) { try cluster.driverList()["d1"]?["state"] as? String == "idle" }
        #expect(try cluster.startTest("cut-2", """
            {"test_type": "AVALANCHE", "message_count_per_driver": 100, "connections": 2, "drivers": 3, "target": "\(cluster.targetURL)"}
            """) == 202)
        let next = try cluster.finishedTest("cut-2", seconds: 30).report
        #expect(next["requests"] as? Int == 300 && next["partial"] as? Bool == false)
        #expect((next["drivers"] as? [String] ?? []).contains("d1"))
    }

    @Test func aDriverCutFromTheBrokerInACountBasedTestHasItsShareHandedOverAndTheTargetCountDeclared() throws {
        let cluster = try HostCluster(drivers: 3, heartbeatTimeoutMs: 2_000)
        defer { cluster.stop() }
        // 100 req/s per driver, 900 each: 9 s of work per driver.
        #expect(try cluster.startTest("cut-count", """
            {"test_type": "TSUNAMI", "rate": 300, "message_count_per_driver": 900, "connections": 2, "target": "\(cluster.targetURL)"}
            """) == 202)
        try cluster.waitForProgress("cut-count", seconds: 2, requests: 500)
        try cluster.hosts.cut("d2", from: "broker")
        sleep(10)
        try cluster.hosts.heal("d2")
        let (status, _, _) = try cluster.finishedTest("cut-count", seconds: 60)
        #expect(status == "done")
        let report = try reportWithLateFinal(cluster, "cut-count", of: "d2")
        #expect(report["partial"] as? Bool == true && report["failed_drivers"] as? [String] == ["d2"])
        #expect(report["requests"] as? Int == 2_700, "the full count, the handed-over part included")
        let handovers = report["redistributed"] as? [[String: Any]] ?? []
        let moved = handovers.first?["requests"] as? Int ?? 0
        #expect(handovers.count == 1 && handovers.first?["from"] as? String == "d2" && moved > 0 && moved < 900)
        // d2 sent its whole share: the part it had not reported was sent twice (by it and by the
        // survivors), and the report declares it.
        let late = (report["sent_after_failure"] as? [String: Int])?["d2"] ?? -1
        #expect(late == moved, "sent_after_failure \(late), handed over \(moved)")
        let log = try cluster.targetLog(expecting: 2_700 + late)
        #expect(log.count == 2_700 + late)
        #expect(HostCluster.lines(log, ofDriver: 2) == 900)
    }

    @Test func anOrchestratorCutFromTheBrokerFor10sHasItsTestCompleteExactlyAfterTheHeal() throws {
        let cluster = try HostCluster(drivers: 2)
        defer { cluster.stop() }
        #expect(try cluster.startTest("orch-cut", """
            {"test_type": "TSUNAMI", "rate": 200, "duration_s": 20, "connections": 2, "target": "\(cluster.targetURL)"}
            """) == 202)
        try cluster.waitForProgress("orch-cut", seconds: 4)
        try cluster.hosts.cut("orch", from: "broker")
        sleep(10)
        try cluster.hosts.heal("orch")
        let healedAt = Date()
        let (status, report, _) = try cluster.finishedTest("orch-cut", seconds: 90)
        #expect(status == "done")
        #expect(report["partial"] as? Bool == false && (report["failed_drivers"] as? [String] ?? ["?"]).isEmpty)
        #expect(report["requests"] as? Int == 4_000 && report["intended"] as? Int == 4_000 && report["responses"] as? Int == 4_000)
        #expect(try cluster.targetLog(expecting: 4_000).count == 4_000)
        #expect(try cluster.latencyLog("orch-cut").total == 4_000)
        #expect(cluster.orchestratorLog().contains("the bus is not delivering"))
        #expect(Date().timeIntervalSince(healedAt) < 60)
    }

    @Test func twoPercentLossOnTheTargetsLinkLeavesCountsEqualToNginxsLog() throws {
        let cluster = try HostCluster(drivers: 2)
        defer { cluster.stop() }
        try cluster.hosts.loss("target", to: nil, percent: 2)
        #expect(try cluster.startTest("target-loss", """
            {"test_type": "TSUNAMI", "rate": 200, "duration_s": 8, "connections": 4, "target": "\(cluster.targetURL)"}
            """) == 202)
        let (status, report, _) = try cluster.finishedTest("target-loss", seconds: 60)
        #expect(try cluster.hosts.dropped("target") > 10, "the loss rule dropped packets")
        #expect(status == "done" && report["partial"] as? Bool == false)
        let requests = report["requests"] as? Int ?? 0
        #expect(requests == 1_600 && report["responses"] as? Int == requests, "\(report["errors"] ?? "")")
        #expect(try cluster.targetLog(expecting: requests).count == requests)
        #expect(try cluster.latencyLog("target-loss").total == Int64(requests))
    }

    @Test func twoPercentLossOnADriversBrokerLinkStillDeliversEverySecondExactly() throws {
        let cluster = try HostCluster(drivers: 2)
        defer { cluster.stop() }
        try cluster.hosts.loss("d1", to: "broker", percent: 2)
        #expect(try cluster.startTest("bus-loss", """
            {"test_type": "TSUNAMI", "rate": 200, "duration_s": 10, "connections": 2, "target": "\(cluster.targetURL)"}
            """) == 202)
        let (status, report, _) = try cluster.finishedTest("bus-loss", seconds: 60)
        #expect(try cluster.hosts.dropped("d1") > 0, "the loss rule dropped packets")
        #expect(status == "done" && report["partial"] as? Bool == false)
        #expect(report["requests"] as? Int == 2_000 && report["intended"] as? Int == 2_000)
        #expect(try cluster.targetLog(expecting: 2_000).count == 2_000)
        let log = try cluster.latencyLog("bus-loss")
        #expect(log.total == 2_000 && log.intervals.count >= 10, "\(log.intervals)")
        // The merged percentiles are the two drivers' histograms merged (Python's hdrhistogram).
        let dir = cluster.reportsDirectory.appendingPathComponent("bus-loss/drivers")
        let finals = try ["d1", "d2"].map { d -> String in
            let f = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("\(d).json"))) as? [String: Any]
            return try #require(f?["histogram"] as? String)
        }
        let merged = try python("merge", ["b64": finals, "percentiles": [50.0, 99]], as: PythonStats.self)
        let latency = report["latency_us"] as? [String: Any] ?? [:]
        #expect(merged.total == 2_000)
        #expect(merged.values == [latency["p50"] as? Int, latency["p99"] as? Int].map { Int64($0 ?? -1) })
    }
}
