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
}
