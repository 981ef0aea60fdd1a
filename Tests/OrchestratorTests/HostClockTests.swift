import Foundation
import Testing
import TestSupport

/// Across test hosts: a slow broker link, a driver whose wall clock is off, drivers with two
/// addresses each. Checked against nginx's access log (`$msec $remote_addr`).
@Suite(.serialized, .enabled(if: TestHosts.unavailable == nil, "test hosts need root, iproute2, nftables and network namespaces"))
struct HostClockTests {
    /// A request list of 60 names: 60 histograms and counters in every interval message (20 names
    /// at 200 req/s came to about 19 KB/s on the broker link, under 256 kbit/s), so the slow link
    /// carries each second for longer than a second.
    static let manyNames = (1...60).map { #"{"name": "page \#($0)", "url": "URL/p\#($0)"}"# }.joined(separator: ", ")

    @Test func aDriversBrokerLinkAt256Then128kbitIsLateOnTheFeedWhileTheReportStaysExact() throws {
        // The heartbeat timeout must outlast the slow link's queue: heartbeats wait behind intervals
        // (15 s did until intervals carried each name's timings: d1 was failed at 128 kbit/s).
        let cluster = try HostCluster(drivers: 2, heartbeatTimeoutMs: 30_000)
        defer { cluster.stop() }
        let list = Self.manyNames.replacingOccurrences(of: "URL/", with: cluster.targetURL)
        var expected = 0
        for kbit in [256, 128] {
            try cluster.hosts.limit("d1", kbit: kbit, to: "broker")
            let id = "slow-\(kbit)"
            #expect(try cluster.startTest(id, """
                {"test_type": "TSUNAMI", "rate": 400, "duration_s": 20, "connections": 4, "requests": [\(list)]}
                """) == 202)
            let (status, report, _) = try cluster.finishedTest(id, seconds: 90)
            expected += 8_000
            #expect(status == "done" && report["partial"] as? Bool == false,
                    "\(kbit) kbit/s: failed drivers \(report["failed_drivers"] ?? "-"), error \(report["error"] ?? "-"), late \(report["late_seconds"] ?? "-")")
            #expect(report["requests"] as? Int == 8_000 && report["intended"] as? Int == 8_000, "\(kbit) kbit/s")
            #expect(try cluster.targetLog(expecting: expected).count == expected, "\(kbit) kbit/s")
            #expect(try cluster.latencyLog(id).total == 8_000, "late seconds are folded into the hlog")
            let late = report["late_seconds"] as? [String: [Int]] ?? [:]
            #expect(late["d2"] == nil, "\(late)")
            // At 128 kbit/s d1's seconds fall behind: the feed announced them without d1 and said so.
            // (At 256 kbit/s these 60-name intervals kept up on this machine: not asserted either way.)
            if kbit == 128 {
                #expect(!(late["d1"] ?? []).isEmpty, "\(late)")
                #expect(cluster.orchestratorLog().contains("late_drivers=d1"))
            }
            try cluster.hosts.heal("d1")
            try waitUntil(seconds: 30) { try cluster.idleDrivers() == 2 }
        }
    }

    @Test func aDriverWhoseWallClockIs3sAheadStartsWithTheOthersAndBeyondTheLimitIsRefused() throws {
        let library = try fakeRealtimeLibrary.get()
        let cluster = try HostCluster(drivers: 3, orchestratorArguments: ["--max-clock-offset-ms", "5000"],
                                      driverEnvironment: ["d3": ["LD_PRELOAD": library, "STAMPEDE_FAKE_OFFSET_MS": "3000"]])
        defer { cluster.stop() }
        // Estimated from heartbeat round trips: within the round trip's half of the true offsets.
        var offsets: [String: Double] = [:]
        try waitUntil(seconds: 20) {
            let drivers = try cluster.driverList()
            offsets = drivers.compactMapValues { $0["clock_offset_ms"] as? Double }
            return offsets.count == 3
        }
        #expect(abs((offsets["d3"] ?? 0) - 3_000) < 50 && abs(offsets["d1"] ?? 99) < 50 && abs(offsets["d2"] ?? 99) < 50, "\(offsets)")
        #expect(try cluster.driverList()["d3"]?["rtt_ms"] as? Double != nil)
        #expect(try cluster.startTest("skew-1", """
            {"test_type": "TSUNAMI", "rate": 300, "duration_s": 3, "connections": 1, "drivers": 3, "target": "\(cluster.targetURL)"}
            """) == 202)
        let (status, report, _) = try cluster.finishedTest("skew-1", seconds: 40)
        #expect(status == "done")
        // Every driver's first request reached nginx within 50 ms of the others'.
        let log = try cluster.targetLog(expecting: 900)
        let firsts = (1...3).compactMap { n in log.filter { Set(HostCluster.driverAddresses(n)).contains($0.from) }.map(\.at).min() }
        #expect(firsts.count == 3 && (firsts.max()! - firsts.min()!) <= 0.050, "first requests at \(firsts)")
        let used = report["clock_offsets_ms"] as? [String: Double] ?? [:]
        #expect(abs((used["d3"] ?? 0) - 3_000) < 50, "\(used)")
        // d3's times were read back on the orchestrator's clock: the test spans 3 s, not 6.
        #expect((report["duration_s"] as? Double ?? 0) < 3.5, "duration_s \(report["duration_s"] ?? "-")")

        // Under the default limit (1000 ms) d3 is refused, and says why.
        try cluster.startOrchestrator()
        var refused = ""
        try waitUntil(seconds: 20) {
            refused = try cluster.driverList()["d3"]?["refused"] as? String ?? ""
            return !refused.isEmpty
        }
        #expect(refused.contains("ahead of the orchestrator's") && refused.contains("--max-clock-offset-ms 1000"), "\(refused)")
        #expect(cluster.orchestratorLog().contains("driver refused for tests"))
        try waitUntil(seconds: 20) { try cluster.idleDrivers() == 3 }
        _ = try cluster.api("POST", "/tests", body: """
            {"test_id": "skew-2", "test_type": "AVALANCHE", "message_count_per_driver": 50, "drivers": 3, "target": "\(cluster.targetURL)"}
            """)
        let (code, answer) = try cluster.json("POST", "/trigger", body: #"{"test_id": "skew-2"}"#)
        #expect(code == 503 && (answer["error"] as? String ?? "").contains("d3: its clock is") && answer["field"] as? String == "drivers", "\(answer)")
        // Without a driver count the test runs on the others, and its report says who was left out.
        #expect(try cluster.startTest("skew-3", """
            {"test_type": "AVALANCHE", "message_count_per_driver": 50, "target": "\(cluster.targetURL)"}
            """) == 202)
        let third = try cluster.finishedTest("skew-3", seconds: 30).report
        #expect(third["drivers"] as? [String] == ["d1", "d2"] && third["requests"] as? Int == 100)
        #expect((third["refused_drivers"] as? [String: String])?["d3"]?.contains("clock") == true)
    }

    @Test func driversWithTwoAddressesEachSpreadTheirConnectionsOverBoth() throws {
        let args = (1...2).reduce(into: [String: [String]]()) { args, n in
            args["d\(n)"] = ["--source-addrs", HostCluster.driverAddresses(n).joined(separator: ",")]
        }
        let cluster = try HostCluster(drivers: 2, driverArguments: args)
        defer { cluster.stop() }
        #expect(try cluster.startTest("addrs-1", """
            {"test_type": "AVALANCHE", "message_count_per_driver": 400, "connections": 4, "target": "\(cluster.targetURL)"}
            """) == 202)
        let report = try cluster.finishedTest("addrs-1", seconds: 30).report
        #expect(report["requests"] as? Int == 800)
        let log = try cluster.targetLog(expecting: 800)
        let byAddress = Dictionary(grouping: log, by: \.from).mapValues(\.count)
        // Each driver's four connections, round-robin over its two addresses: half the requests from each.
        for n in 1...2 {
            let (a, b) = (HostCluster.driverAddresses(n)[0], HostCluster.driverAddresses(n)[1])
            #expect((byAddress[a] ?? 0) + (byAddress[b] ?? 0) == 400, "\(byAddress)")
            #expect((byAddress[a] ?? 0) > 0 && (byAddress[b] ?? 0) > 0, "\(byAddress)")
        }
        #expect(Set(byAddress.keys).isSubset(of: Set((1...2).flatMap(HostCluster.driverAddresses))), "\(byAddress.keys)")
    }
}
