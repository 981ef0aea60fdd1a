import Foundation
import Synchronization
import Testing
import TestSupport

/// Nothing a response holds can keep a run from ending on time, and a signal ends it promptly.
@Suite(.serialized) struct RunawayTests {
    /// `(a+)+$` against 5,000 `a`s and a `b` takes a backtracking engine longer than the age of
    /// the universe (26 `a`s held a driver for 80 s). The captures run in linear time: a 2 s run
    /// ends in about 2 s, every session failing its capture (the pattern does not match).
    @Test func aCatastrophicCaptureRegexDoesNotHoldTheRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-runaway-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let body = dir.appendingPathComponent("aab.txt")
        try Data((String(repeating: "a", count: 5_000) + "b").utf8).write(to: body)
        let nginx = try Nginx(locations: "location = /aab { default_type text/plain; alias \(body.path); }")
        defer { nginx.stop() }
        let targets = dir.appendingPathComponent("journey.json")
        try Data(#"""
            [{"name": "page", "url": "http://127.0.0.1:\#(nginx.port)/aab", "capture": {"x": {"regex": "(a+)+$"}}},
             {"name": "next", "url": "http://127.0.0.1:\#(nginx.port)/{{var.x}}"}]
            """#.utf8).write(to: targets)
        let started = Date()
        let run = try runCommand(stampedeBinary, ["bench", "--targets", targets.path, "--order", "sequence", "-c", "4", "-d", "2", "--json"],
                                 timeout: 60)
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 6, "the run took \(elapsed) s")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stderr)")
        let errors = report["errors"] as? [String: Any] ?? [:]
        let responses = report["responses"] as? Int ?? 0
        #expect(responses > 100 && errors["capture"] as? Int == responses, "\(report)")
    }

    /// SIGTERM ends a long run within 2 s: requests in flight finish, the report says interrupted.
    @Test func sigtermEndsALongRunWithinTwoSeconds() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let process = Process()
        process.executableURL = stampedeBinary
        process.arguments = ["bench", "http://127.0.0.1:\(nginx.port)/", "-c", "20", "-d", "120", "--json"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // Reading in the background: the report may be larger than a pipe holds.
        let output = Mutex(Data())
        let reader = Thread { let data = out.fileHandleForReading.readDataToEndOfFile(); output.withLock { $0 = data } }
        reader.start()
        Thread.sleep(forTimeInterval: 2)
        let signalled = Date()
        kill(process.processIdentifier, SIGTERM)
        try waitUntil(seconds: 10) { !process.isRunning }
        let took = Date().timeIntervalSince(signalled)
        #expect(took < 2, "exited \(took) s after SIGTERM")
        try waitUntil(seconds: 5) { !output.withLock { $0 }.isEmpty }
        let report = try #require(try JSONSerialization.jsonObject(with: output.withLock { $0 }) as? [String: Any])
        #expect(report["interrupted"] as? Bool == true && (report["responses"] as? Int ?? 0) > 0, "\(report)")
        #expect(report["requests"] as? Int == report["responses"] as? Int, "\(report)")
    }

    /// `stampede bench` judges its thresholds each second too: one with `abort` stops the run,
    /// the summary's last line says why, and it exits 3.
    @Test func aFailingAbortThresholdStopsALocalRun() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-abort-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("ok.txt")
        try Data("ok".utf8).write(to: page)
        let nginx = try Nginx(httpSettings: "limit_req_zone $binary_remote_addr zone=one:1m rate=100r/s;",
                              locations: "location = /limited { limit_req zone=one burst=5 nodelay; limit_req_status 503; alias \(page.path); }")
        defer { nginx.stop() }
        let started = Date()
        let run = try runCommand(stampedeBinary, ["bench", "http://127.0.0.1:\(nginx.port)/limited", "--mode", "tsunami", "--rate", "500",
                                                  "-c", "10", "-d", "30", "--threshold", "error_rate=0.1,abort-after=2s"], timeout: 60)
        let elapsed = Date().timeIntervalSince(started)
        #expect(run.status == 3, "\(run.stdout) \(run.stderr)")
        #expect(elapsed < 8, "ran \(elapsed) s")
        let last = run.stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(last.hasPrefix("Aborted at 2 s: error_rate was 0.") && last.hasSuffix("limit 0.1 (abort_on_fail)"), "\(run.stdout)")
    }
}
