import Foundation
import Testing
import TestSupport

/// Tests of 1,000 names each, one after another: the orchestrator answers /ping promptly through
/// them and their ends, gives their memory back, and keeps only `--keep-tests` of them whole.
@Suite(.serialized) struct ManyNamesTests {
    @Test func tenThousandNameTestsInARowGiveTheirMemoryBackAndPingStaysPrompt() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        // Timed as users run it: an optimized build (a debug build is tens of times slower).
        let release = try #require(releaseStampedeBinary, "no release build: run `make dist` (make test does)")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-many-names-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let cluster = try Cluster(drivers: 1, extraArguments: ["--keep-tests", "1"], orchestratorBinary: release, orchestratorLog: log)
        defer { cluster.stop() }
        let requests = (0..<1_000).map { #"{"name": "n\#($0)", "url": "http://127.0.0.1:\#(nginx.port)/p\#($0)"}"# }.joined(separator: ",")
        let pid = cluster.orchestrator.process.processIdentifier
        // A health check polling /ping every 10 ms on one keep-alive connection, through all ten.
        let poller = Process()
        poller.executableURL = repositoryRoot.appendingPathComponent(".venv/bin/python")
        poller.arguments = [repositoryRoot.appendingPathComponent("Tests/Interop/ping_poller.py").path, String(cluster.apiPort), "300"]
        let pollerIn = Pipe(), pollerOut = Pipe()
        poller.standardInput = pollerIn
        poller.standardOutput = pollerOut
        try poller.run()
        var resident: [Int] = []  // after each test, KiB
        for k in 1...10 {
            try waitUntil(seconds: 20) { try cluster.idleDrivers() == 1 }
            #expect(try cluster.startTest("names-\(k)", #"{"requests": [\#(requests)], "duration_s": 2, "connections": 8}"#) == 202)
            let (status, report, _) = try cluster.finishedTest("names-\(k)")
            #expect(status == "done" && (report["by_name"] as? [String: Any])?.count == 1_000)
            // Read once the test's page is written (glibc is asked to give memory back just after).
            let page = cluster.reportsDirectory.appendingPathComponent("names-\(k)/report.html")
            try waitUntil(seconds: 20) { FileManager.default.fileExists(atPath: page.path) }
            usleep(300_000)
            resident.append(residentKiB(pid))
        }
        // The first two warm what stays (caches, allocator arenas, the test kept whole).
        let warmed = resident.prefix(2).max() ?? 0, afterTen = resident.last ?? 0
        try pollerIn.fileHandleForWriting.close()
        let polled = try #require(try JSONSerialization.jsonObject(with: pollerOut.fileHandleForReading.readDataToEndOfFile()) as? [String: Any])
        poller.waitUntilExit()
        // Steady state: with one test kept whole, eight more leave memory where the first two left
        // it (before this round each such test kept about 50 MiB until a restart). Read before the
        // page was written, RSS moved 10-20 % between identical tests; read after, with the
        // orchestrator's threads in one malloc arena: 39-43 MiB (52-63 in an arena per thread).
        #expect(Double(afterTen) <= Double(warmed) * 1.2, "RSS after each test, MiB: \(resident.map { $0 / 1024 })")
        let pings = (polled["ms"] as? [Double] ?? []).sorted()
        #expect(pings.count > 500 && polled["failures"] as? Int == 0, "\(pings.count) polls, \(polled["failures"] ?? "?") failed")
        let p99 = pings.isEmpty ? 0 : pings[Int(Double(pings.count) * 0.99)]
        #expect(p99 < 100, "/ping p99 \(p99) ms over \(pings.count) polls, max \(pings.last ?? 0) ms")
        // Each second's 1,000 names are merged on the reactor thread (read and decoded on the
        // metrics intake's, the report built on the page writer's, GET /tests/{id} made on another):
        // the orchestrator times everything its reactor does and logs what took over 100 ms. None
        // may take 250 ms (1.1-1.6 s at each end before; since: nothing logged in four runs). The
        // client's slowest poll also counts its own and the kernel's scheduling: printed, and
        // asked under 1 s (a full CI run saw 1,647 ms once, with the live GET still on the reactor).
        let busy = (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").filter { $0.contains("reactor was busy") } ?? []
        let busiest = busy.compactMap { line in line.split(separator: " ").first { $0.hasPrefix("ms=") }.flatMap { Int($0.dropFirst(3)) } }.max() ?? 0
        print("ManyNamesTests: RSS after each test \(resident.map { $0 / 1024 }) MiB; /ping p99 \(p99) ms, max \(pings.last ?? 0) ms; reactor busy: \(busy)")
        #expect(busiest < 250, "the reactor was busy \(busiest) ms: \(busy)")
        #expect((pings.last ?? 0) < 1_000, "/ping max \(pings.last ?? 0) ms; polls over 100 ms [started, ms]: \(polled["slow"] ?? []); orchestrator: \(busy)")
        // One kept whole; the nine older ones listed without their report, read back when asked for.
        let (_, listed) = try cluster.api("GET", "/tests")
        let tests = try #require(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]])
        #expect(tests.count == 10)
        #expect(tests.filter { $0["report"] != nil }.count == 1, "\(tests.map { $0["test_id"] ?? "" })")
        let (code, first) = try cluster.json("GET", "/tests/names-1")
        #expect(code == 200 && ((first["report"] as? [String: Any])?["by_name"] as? [String: Any])?.count == 1_000)
        #expect(try cluster.json("POST", "/tests", body: #"{"test_id": "names-1", "target": "http://127.0.0.1:1/", "duration_s": 1}"#).0 == 409)
    }
}
