import Foundation
import Testing
import TestSupport

/// A named test's runs over time: indexed by the orchestrator from its reports directory (a
/// restart with 1,000 stored runs indexes them before it listens), `GET /history/NAME`, and
/// `stampede compare --history` catching a regression planted in the last run.
@Suite(.serialized) struct HistoryTests {
    @Test func namedRunsAreListedSurviveARestartAndJudgeTheNextRun() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        // The planted regression: the same requests to a server answering 30 ms late.
        let slowPort = freePort()
        let slow = try ServerProcess(stampedeBinary, ["target", "--listen", "127.0.0.1:\(slowPort)", "--delay-ms", "30"], port: slowPort)
        defer { slow.stop() }
        let cluster = try Cluster(drivers: 1, orchestratorBinary: releaseStampedeBinary ?? stampedeBinary)
        defer { cluster.stop() }
        var ids: [String] = []
        for (k, port) in [nginx.port, nginx.port, nginx.port, slowPort].enumerated() {
            let id = "nightly-\(k + 1)"
            #expect(try cluster.startTest(id, """
                {"name": "nightly", "target": "http://127.0.0.1:\(port)/", "connections": 4, "message_count_per_driver": 400,
                 "thresholds": {"p99_ms": 20}}
                """) == 202)
            let (status, report, _) = try cluster.finishedTest(id, seconds: 60)
            #expect(status == "done" && report["name"] as? String == "nightly", "\(report)")
            ids.append(id)
        }
        let (listed, history) = try cluster.json("GET", "/history/nightly")
        let runs = history["runs"] as? [[String: Any]] ?? []
        #expect(listed == 200 && runs.map { $0["test_id"] as? String ?? "" } == ids, "\(history)")
        #expect(runs.prefix(3).allSatisfy { $0["passed"] as? Bool == true && ($0["p99_ms"] as? Double ?? 99) < 20 }, "\(runs)")
        #expect(runs.last?["passed"] as? Bool == false && (runs.last?["p99_ms"] as? Double ?? 0) >= 30, "\(runs.last ?? [:])")
        #expect(try cluster.json("GET", "/history/nobody").0 == 404)
        let (bad, refusal) = try cluster.json("GET", "/history/a%20b")
        #expect(bad == 400 && refusal["field"] as? String == "name", "\(refusal)")
        let (_, page) = try cluster.call("GET", "/history/nightly/page", body: nil, headers: [])
        #expect(page.contains("<canvas id=\"latencyChart\">"))

        // compare --history: the last run against the median of the ones before it.
        let dir = cluster.reportsDirectory.path
        let judged = try runCommand(stampedeBinary, ["compare", "--history", "nightly", "--last", "10", "--reports-dir", dir,
                                                     "\(dir)/nightly-4", "--max-regression", "p99=50%"])
        #expect(judged.status == 3 && judged.stdout.contains("the median of the last 3 run(s) of nightly"), "\(judged.stdout)\(judged.stderr)")
        #expect(judged.stdout.contains("REGRESSION") && judged.stderr.contains("p99"), "\(judged.stdout)")
        let fine = try runCommand(stampedeBinary, ["compare", "--history", "nightly", "--last", "2", "--reports-dir", dir,
                                                   "\(dir)/nightly-3", "--max-regression", "p99=200%"])
        #expect(fine.status == 0, "\(fine.stdout)\(fine.stderr)")

        for command in ["bench", "run"] {
            let bad = try runCommand(stampedeBinary, [command, "http://127.0.0.1:\(nginx.port)/", "--name", "night ly", "--dry-run"])
            #expect(bad.status == 2 && bad.stderr.contains("--name: a test's name is 1-64 characters"), "\(command): \(bad.stderr)")
        }

        // 1,000 more stored runs: the restarted orchestrator indexes them before it listens.
        #expect(cluster.stopOrchestrator() == 0)
        let source = cluster.reportsDirectory.appendingPathComponent("nightly-1")
        for k in 1...1_000 {
            let id = "copy-\(k)"
            let target = cluster.reportsDirectory.appendingPathComponent(id)
            try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
            for file in ["test.json", "report.json"] {
                let text = try String(contentsOf: source.appendingPathComponent(file), encoding: .utf8)
                try text.replacingOccurrences(of: "nightly-1", with: id).write(to: target.appendingPathComponent(file), atomically: false, encoding: .utf8)
            }
        }
        let started = Date()
        try cluster.restartOrchestrator()
        let restart = Date().timeIntervalSince(started)
        let (_, after) = try cluster.json("GET", "/history/nightly")
        #expect((after["runs"] as? [[String: Any]])?.count == 1_004)
        // Process start, Kafka connect and every test's files read back, index included.
        #expect(restart < 3, "restart with 1,004 stored tests took \(restart) s")
        print("history: restart with 1,004 stored tests took \(String(format: "%.2f", restart)) s")
    }
}
