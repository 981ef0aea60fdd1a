import Foundation
import Testing
import TestSupport

/// A 1:2:7 mix of three paths as a `requests` list.
func weightedMix(_ base: String) -> String {
    """
    [{"name": "home", "url": "\(base)/a", "weight": 1},
     {"name": "list", "url": "\(base)/b", "weight": 2},
     {"name": "item", "url": "\(base)/item", "weight": 7}]
    """
}

/// Each name's count in the report equals nginx's count of its path, and the shares are within
/// 0.6 percentage points of 10/20/70 %.
func expectMixMatchesNginx(_ report: [String: Any], _ nginx: Nginx, total: Int) throws {
    let lines = try nginx.accessLog(expecting: total)
    #expect(lines.count == total)
    let byPath = logCounts(lines, field: 2)
    let byName = try #require(report["by_name"] as? [String: [String: Any]], "\(report.keys)")
    for (name, path, share) in [("home", "/a", 10.0), ("list", "/b", 20.0), ("item", "/item", 70.0)] {
        let count = byName[name]?["requests"] as? Int ?? -1
        #expect(count == byPath[path], "\(name): report \(count), nginx \(byPath[path] ?? 0)")
        let percent = Double(byPath[path] ?? 0) / Double(total) * 100
        #expect(abs(percent - share) <= 0.6, "\(path): \(percent) % of requests, wanted \(share) %")
    }
}

/// The workload model through `stampede run` (two in-process drivers) and the distributed system
/// (orchestrator, two drivers, Tansu), against nginx's access log.
@Suite(.serialized) struct WorkloadTests {
    @Test func mixOverTwoDriversWithRunIsExactPerName() throws {
        let nginx = try workloadNginx()
        defer { nginx.stop() }
        let targets = try temporaryFile("mix.json", weightedMix("http://127.0.0.1:\(nginx.port)"))
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: reports) }
        let run = try runCommand(stampedeBinary, ["run", "--targets", targets, "--drivers", "2", "--requests", "50000", "-c", "10",
                                                  "--json", "--reports-dir", reports.path], timeout: 180)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try jsonObject(run.stdout)
        #expect(report["requests"] as? Int == 100_000 && report["responses"] as? Int == 100_000)
        try expectMixMatchesNginx(report, nginx, total: 100_000)

        // latency.hlog: the untagged total and one tagged line per name each second.
        struct Log: Decodable { let intervals: [Int64]; let total: Int64; let tags: [String: Int64] }
        let id = try #require(report["test_id"] as? String)
        let log = try python("readlog", ["path": reports.appendingPathComponent("\(id)/latency.hlog").path, "percentiles": [50.0]], as: Log.self)
        #expect(log.total == 100_000)
        let byName = report["by_name"] as? [String: [String: Any]] ?? [:]
        #expect(log.tags == byName.mapValues { Int64($0["responses"] as? Int ?? -1) }, "\(log.tags)")
    }

    @Test func sequenceNumbersAndDataRowsAreDealtOutAcrossDrivers() throws {
        let nginx = try workloadNginx()
        defer { nginx.stop() }
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: reports) }
        let seq = try runCommand(stampedeBinary, ["run", "http://127.0.0.1:\(nginx.port)/items/{{seq}}", "--drivers", "2",
                                                  "--requests", "2000", "-c", "8", "--json", "--reports-dir", reports.path], timeout: 120)
        #expect(seq.status == 0, "\(seq.stderr)")
        let uris = logCounts(try nginx.accessLog(expecting: 4000), field: 2)
        #expect(uris.count == 4000 && uris.values.allSatisfy { $0 == 1 }, "\(uris.filter { $0.value > 1 }.prefix(5))")

        let rows = (1...1000).map { "\($0),user\($0)" }.joined(separator: "\n")
        let csv = try temporaryFile("users.csv", "id,name\n" + rows + "\n")
        let before = try nginx.accessLogLines()
        let data = try runCommand(stampedeBinary, ["run", "http://127.0.0.1:\(nginx.port)/users/{{row.id}}?name={{row.name}}",
                                                   "--data", csv, "--drivers", "2", "--requests", "500", "-c", "8",
                                                   "--json", "--reports-dir", reports.path], timeout: 120)
        #expect(data.status == 0, "\(data.stderr)")
        let logged = try nginx.accessLog(expecting: before + 1000).dropFirst(before)
        let users = logCounts(Array(logged), field: 2)
        #expect(users.count == 1000 && users.values.allSatisfy { $0 == 1 }, "\(users.filter { $0.value > 1 }.prefix(5))")
        #expect(users["/users/1000?name=user1000"] == 1 && users["/users/1?name=user1"] == 1)
    }

    @Test func distributedMixIsExactPerNameAndBadWorkloadsAreRefusedByField() throws {
        let nginx = try workloadNginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        let base = "http://127.0.0.1:\(nginx.port)"
        let ws = try WebSocketListener(url: "ws://127.0.0.1:\(cluster.apiPort)/ws", seconds: 120, untilFinal: "mix-1")
        try waitUntil(seconds: 15) { try websocketClients(cluster) == 1 }
        let (created, body) = try cluster.json("POST", "/tests", body: """
            {"test_id": "mix-1", "message_count_per_driver": 50000, "connections": 10, "seed": 99,
             "requests": \(weightedMix(base))}
            """)
        #expect(created == 201, "\(body)")
        let (triggered, _) = try cluster.json("POST", "/trigger", body: #"{"test_id": "mix-1"}"#)
        #expect(triggered == 202)
        let detail = try cluster.waitForTest("mix-1", seconds: 120)
        let report = try #require(detail["report"] as? [String: Any])
        #expect(report["requests"] as? Int == 100_000 && report["responses"] as? Int == 100_000)
        #expect(report["seed"] as? Int == 99)
        #expect((report["status_codes"] as? [String: Int])?["200"] == 100_000)
        try expectMixMatchesNginx(report, nginx, total: 100_000)

        // The live feed: each second per name too, adding up to the report's per-name counts.
        let (_, lines) = ws.finish()
        let intervals = lines.compactMap { try? jsonObject($0) }.filter { $0["type"] as? String == "interval" }
        #expect(!intervals.isEmpty)
        var live: [String: Int] = [:]
        for interval in intervals {
            for (name, figures) in interval["by_name"] as? [String: [String: Any]] ?? [:] { live[name, default: 0] += figures["requests"] as? Int ?? 0 }
        }
        let byName = report["by_name"] as? [String: [String: Any]] ?? [:]
        #expect(live == byName.mapValues { $0["requests"] as? Int ?? -1 }, "live \(live)")
        #expect(intervals.allSatisfy { $0["status_codes"] is [String: Int] })

        let bad: [(body: String, field: String, says: String)] = [
            (#"{"message_count_per_driver": 1, "requests": [{"url": "\#(base)/{{nope}}"}]}"#, "requests[0].url", "unknown template"),
            (#"{"message_count_per_driver": 1, "requests": [{"url": "\#(base)/"}, {"url": "\#(base)/b", "weight": -1}]}"#,
             "requests[1].weight", "> 0"),
            (#"{"message_count_per_driver": 1, "requests": [{"url": "\#(base)/?u={{row.user}}"}], "data": {"csv": "id\n1\n"}}"#,
             "requests[0].url", "no column 'user'"),
            (#"{"message_count_per_driver": 1, "target": "\#(base)/", "requests": [{"url": "\#(base)/"}]}"#, "requests", "not both"),
            (#"{"message_count_per_driver": 1, "requests": [{"url": "\#(base)/", "expect_status": ["2yy"]}]}"#,
             "requests[0].expect_status", "2yy"),
            (#"{"message_count_per_driver": 1, "requests": [{"url": "\#(base)/", "colour": 1}]}"#, "requests[0].colour", "unknown field"),
            (#"{"message_count_per_driver": 1, "target": "\#(base)/", "data": {"csv": "a,b\n1\n"}}"#, "data.csv", "line 2"),
            (#"{"message_count_per_driver": 1, "target": "\#(base)/", "order": "shuffled"}"#, "order", "sequence"),
        ]
        for c in bad {
            let (status, answer) = try cluster.json("POST", "/tests", body: c.body)
            #expect(status == 400, "\(c.body): \(status) \(answer)")
            #expect(answer["field"] as? String == c.field, "\(c.body): \(answer)")
            #expect((answer["error"] as? String ?? "").contains(c.says), "\(c.body): \(answer)")
        }
    }
}
