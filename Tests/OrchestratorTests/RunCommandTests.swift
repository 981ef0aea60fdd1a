import Foundation
import Testing
import TestSupport

/// `stampede run`: orchestrator and drivers in one process over the in-memory bus.
@Suite(.serialized) struct RunCommandTests {
    @Test func embeddedRunIsExactPerDriverAndReportsProgress() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: reports) }
        let run = try runCommand(stampedeBinary, ["run", "http://127.0.0.1:\(nginx.port)/", "--drivers", "2", "--requests", "3000",
                                                  "--connections", "5", "--json", "--reports-dir", reports.path], timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(report["requests"] as? Int == 6_000 && report["responses"] as? Int == 6_000)
        #expect((report["drivers"] as? [String])?.count == 2)
        #expect(run.stderr.contains("req/s"), "progress lines: \(run.stderr)")
        #expect(try nginx.accessLogLines(expecting: 6_000) == 6_000)
        let testID = try #require(report["test_id"] as? String)
        #expect(FileManager.default.fileExists(atPath: reports.appendingPathComponent("\(testID)/latency.hlog").path))
    }

    @Test func aFailedThresholdExitsThreeAndBadFlagsExitTwo() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: reports) }
        let failed = try runCommand(stampedeBinary, ["run", "http://127.0.0.1:\(nginx.port)/", "--drivers", "1", "--requests", "200",
                                                     "--threshold", "p50_ms=0.001", "--reports-dir", reports.path])
        #expect(failed.status == 3, "\(failed.stdout)\(failed.stderr)")
        #expect(failed.stdout.contains("Threshold p50_ms <= 0.001: FAILED"))
        let usage = try runCommand(stampedeBinary, ["run", "http://127.0.0.1:\(nginx.port)/", "--drivers", "0"])
        #expect(usage.status == 2 && usage.stderr.contains("--drivers"))
    }

    /// Ctrl-C stops an embedded run: the drivers stop sending, the summary says interrupted, and
    /// its count is what nginx logged.
    @Test func anInterruptedRunSaysSoAndCountsWhatItSent() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: reports) }
        let output = reports.appendingPathExtension("out")
        defer { try? FileManager.default.removeItem(at: output) }
        FileManager.default.createFile(atPath: output.path, contents: nil)
        let port = freePort()
        let process = Process()
        process.executableURL = stampedeBinary
        process.arguments = ["run", "http://127.0.0.1:\(nginx.port)/", "--drivers", "2", "--duration", "60", "--connections", "2",
                             "--listen", "127.0.0.1:\(port)", "--reports-dir", reports.path]
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        try waitForPort(port, timeout: 30)
        try waitUntil(seconds: 30) { try nginx.accessLogLines() >= 1_000 }
        kill(process.processIdentifier, SIGINT)
        let sent = Date()
        try waitUntil(seconds: 20) { !process.isRunning }
        #expect(Date().timeIntervalSince(sent) < 15)
        #expect(process.terminationStatus == 0)
        let text = try String(contentsOf: output, encoding: .utf8)
        #expect(text.contains("Interrupted: stopped early by a signal"), "\(text)")
        let requests = text.split(separator: "\n").first { $0.contains(" requests, ") }.flatMap { Int($0.split(separator: " ").first ?? "") } ?? -1
        #expect(try requests >= 1_000 && nginx.accessLogLines(expecting: requests) == requests, "\(text)")
    }
}
