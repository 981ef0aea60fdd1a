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

    /// `--control-file` steers an embedded run: timed lines apply at their second on both
    /// drivers, and the report lists them; a bad line exits 2 naming the file and the line.
    @Test func aControlFileSteersTheRunAtItsSeconds() throws {
        let nginx = try Nginx(logFormat: "$msec $status")
        defer { nginx.stop() }
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: reports) }
        let control = reports.appendingPathExtension("steps")
        defer { try? FileManager.default.removeItem(at: control) }
        try Data("# raise, then pause\n3 rate 400\n5 pause\n7 resume\n".utf8).write(to: control)
        let run = try runCommand(stampedeBinary, ["run", "http://127.0.0.1:\(nginx.port)/", "--mode", "tsunami", "-R", "200", "-d", "9s",
                                                  "--drivers", "2", "--json", "--control-file", control.path, "--reports-dir", reports.path],
                                 timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let changes = report["changes"] as? [[String: Any]] ?? []
        #expect(changes.map { $0["field"] as? String } == ["rate", "paused", "paused"], "\(changes) \(run.stderr)")
        let at = changes.map { $0["at_s"] as? Double ?? 0 }
        #expect(at.count == 3 && zip(at, [3.0, 5, 7]).allSatisfy { abs($0 - $1) < 0.25 }, "\(at)")
        // 200/s for 3 s, 400/s for 2 s, paused 2 s, 400/s for 2 s: 1,600 intended.
        let intended = Double(report["intended"] as? Int ?? 0)
        let integral = at.count == 3 ? 200 * at[0] + 400 * (at[1] - at[0]) + 400 * (9 - at[2]) : 0
        #expect(abs(intended - integral) <= 3, "intended \(intended), integral \(integral)")
        #expect(abs((report["paused_s"] as? Double ?? 0) - 2) < 0.25)
        #expect(try nginx.accessLogLines(expecting: report["requests"] as? Int ?? 0) == report["requests"] as? Int)
        try Data("3 rate 400\n2 rate fast\n".utf8).write(to: control)
        let bad = try runCommand(stampedeBinary, ["run", "http://127.0.0.1:\(nginx.port)/", "--control-file", control.path])
        #expect(bad.status == 2 && bad.stderr.contains("--control-file \(control.path) line 2: '2 rate fast': rate needs a positive number"), "\(bad.stderr)")
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
