import Foundation
import Histogram
import Messaging
import StampedeModel
import StampedeWire
import Testing
import TestSupport

/// A client that goes away, floods, or never reads, and a forged message on the bus: the
/// orchestrator stays up, answers `/ping`, and keeps its memory bounded.
@Suite(.serialized) struct HostileClientTests {
    static let python = repositoryRoot.appendingPathComponent(".venv/bin/python")
    static let script = repositoryRoot.appendingPathComponent("Tests/Interop/hostile_http.py").path

    @Test func clientsThatLeaveFloodOrNeverReadDoNotKillOrBloatTheOrchestrator() throws {
        let cluster = try Cluster(drivers: 0)
        defer { cluster.stop() }
        let body = String(repeating: "x", count: 900_000)
        let (created, _) = try cluster.json("POST", "/tests", body: """
            {"test_id": "big", "target": "http://127.0.0.1:1/", "method": "POST", "duration_s": 1, "body": "\(body)"}
            """)
        #expect(created == 201)
        // 1. Asked for 900 KB and gone before reading it: the old server died of SIGPIPE (exit 141).
        for _ in 0..<3 { _ = try runCommand(Self.python, [Self.script, "close-early", String(cluster.apiPort), "/tests/big", "5"], timeout: 60) }
        #expect(cluster.orchestrator.process.isRunning)
        // 2. 100,000 pipelined requests, then gone: the old server read a closed descriptor (exit 132).
        _ = try runCommand(Self.python, [Self.script, "pipeline", String(cluster.apiPort), "/ping", "100000"], timeout: 60)
        #expect(cluster.orchestrator.process.isRunning)
        #expect(try cluster.json("GET", "/ping").1["status"] as? String == "ok")
        // A client asking for 2,000 copies of 900 KB and reading none: memory stays bounded (the
        // old server queued every answer) and others are served meanwhile.
        let pid = cluster.orchestrator.process.processIdentifier
        let before = residentKiB(pid)
        let reader = Process()
        reader.executableURL = Self.python
        reader.arguments = [Self.script, "never-read", String(cluster.apiPort), "/tests/big", "2000", "4"]
        reader.standardOutput = FileHandle.nullDevice
        try reader.run()
        var peak = before, slowestPing = 0.0
        while reader.isRunning {
            let started = Date()
            #expect(try cluster.json("GET", "/ping").1["status"] as? String == "ok")
            slowestPing = max(slowestPing, Date().timeIntervalSince(started))
            peak = max(peak, residentKiB(pid))
            usleep(100_000)
        }
        #expect(cluster.orchestrator.process.isRunning)
        #expect(peak - before < 64 * 1024, "RSS \(before) -> \(peak) KiB")
        #expect(slowestPing < 0.5, "slowest /ping \(slowestPing) s")
    }

    @Test func aForgedOverflowingIntervalIsSkippedAndARestartIsClean() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 1)
        defer { cluster.stop() }
        #expect(try cluster.startTest("forged", #"{"target": "http://127.0.0.1:\#(nginx.port)/", "duration_s": 3, "connections": 2}"#) == 202)
        try cluster.waitForProgress("forged", seconds: 1)
        // A driver of the test, as far as the bus can tell: the old orchestrator trapped adding it
        // (exit 132) and again on every restart, reading it back from the topic.
        let bus = try KafkaBus(brokers: cluster.broker.brokers, topics: TopicNames.stampede(prefix: cluster.prefix))
        let publisher = try bus.makePublisher()
        for t in [2, 3] {
            try publisher.publish(.interval(IntervalMessage(driverID: "d1", testID: "forged", t: t, requests: Int.max, responses: 1,
                                                            errors: ErrorCounts(), bytesRead: 0, histogram: HDRHistogram().encodeBase64())))
        }
        #expect(publisher.flush(timeoutMs: 10_000))
        let (status, report, _) = try cluster.finishedTest("forged")
        #expect(status == "done")
        #expect(cluster.orchestrator.process.isRunning)
        let requests = report["requests"] as? Int ?? 0
        #expect(requests > 0 && requests < 100_000_000, "requests \(requests)")
        #expect(report["responses"] as? Int == requests - ((report["errors"] as? [String: Int])?["timeout"] ?? 0))
        cluster.killOrchestrator()
        try cluster.restartOrchestrator()
        let (code, detail) = try cluster.json("GET", "/tests/forged")
        #expect(code == 200 && detail["status"] as? String == "done")
        #expect((detail["report"] as? [String: Any])?["requests"] as? Int == requests)
        #expect(try cluster.json("GET", "/ping").1["status"] as? String == "ok")
    }
}
