import Foundation
import Testing
import TestSupport

@Suite(.serialized) struct APITests {
    /// The API's end of validation: a broken body, a field's range and the driver count come back
    /// as 400s naming the field (every case of the validator is in TestConfigFieldTests, in memory).
    static let badTests: [(String, Int, String)] = [
        ("{not json", 400, "body"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "connections": 0}"#, 400, "connections"),
        (#"{"duration_s": 5, "requests": [{"url": "ftp://x/"}]}"#, 400, "requests[0].url"),
        (#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "drivers": 0}"#, 400, "drivers"),
    ]

    @Test func badRequestsGetA4xxNamingTheFieldAndTheServerKeepsServing() throws {
        let cluster = try Cluster(drivers: 0)
        defer { cluster.stop() }
        for (body, status, field) in Self.badTests {
            let (code, answer) = try cluster.json("POST", "/tests", body: body)
            #expect(code == status, "\(body)")
            #expect(answer["field"] as? String == field, "\(body): \(answer)")
            #expect((answer["error"] as? String)?.isEmpty == false)
        }
        let huge = "{\"target\": \"" + String(repeating: "a", count: 1_100_000) + "\"}"
        let (tooBig, bigAnswer) = try cluster.json("POST", "/tests", body: huge)
        #expect(tooBig == 413 && bigAnswer["field"] as? String == "body")
        // urllib sends the whole 2 MiB before reading: without a lingering close it gets a reset.
        let tries = try runCommand(repositoryRoot.appendingPathComponent(".venv/bin/python"),
                                   [repositoryRoot.appendingPathComponent("Tests/Interop/post_big.py").path,
                                    "http://127.0.0.1:\(cluster.apiPort)/tests", "5", String(2 << 20)], timeout: 120)
        let answers = try #require(try JSONSerialization.jsonObject(with: Data(tries.stdout.utf8)) as? [[String: Any]], "\(tries.stderr)")
        #expect(answers.count == 5)
        for answer in answers {
            #expect(answer["status"] as? Int == 413, "\(answer)")
            #expect((answer["body"] as? [String: Any])?["field"] as? String == "body", "\(answer)")
        }
        #expect(try cluster.api("GET", "/nowhere").0 == 404)
        #expect(try cluster.api("DELETE", "/tests").0 == 405)
        #expect(try cluster.api("GET", "/tests/missing").0 == 404)
        #expect(try cluster.json("POST", "/trigger", body: #"{"test_id": "missing"}"#).0 == 404)
        #expect(try cluster.json("POST", "/trigger", body: #"{"id": 1}"#).0 == 400)
        let (created, _) = try cluster.json("POST", "/tests", body: #"{"test_id": "ok-1", "target": "http://127.0.0.1:1/", "duration_s": 1}"#)
        #expect(created == 201)
        #expect(try cluster.json("POST", "/tests", body: #"{"test_id": "ok-1", "target": "http://127.0.0.1:1/", "duration_s": 1}"#).0 == 409)
        let (noDriver, answer) = try cluster.json("POST", "/trigger", body: #"{"test_id": "ok-1"}"#)
        #expect(noDriver == 503 && answer["field"] as? String == "drivers")
        #expect(try cluster.json("GET", "/ping") .1["status"] as? String == "ok")
    }

    @Test func tokenAndCORSGuardTheAPI() throws {
        let cluster = try Cluster(drivers: 0, extraArguments: ["--token", "s3cret", "--allowed-origin", "http://good.example"])
        defer { cluster.stop() }
        #expect(try cluster.api("GET", "/ping").0 == 200)
        #expect(try cluster.api("GET", "/drivers").0 == 401)
        #expect(try cluster.api("GET", "/drivers", headers: ["Authorization: Bearer wrong"]).0 == 401)
        #expect(try cluster.api("GET", "/drivers", headers: ["Authorization: Bearer s3cret"]).0 == 200)
        // ?token= opens a test's own pages (links), not the list, with or without a trailing slash.
        #expect(try cluster.api("GET", "/tests?token=s3cret").0 == 401)
        #expect(try cluster.api("GET", "/tests/?token=s3cret").0 == 401)
        #expect(try cluster.api("GET", "/tests/missing?token=s3cret").0 == 404)
        func headers(origin: String) throws -> String {
            try runCommand(URL(fileURLWithPath: "/usr/bin/curl"), ["-s", "-D", "-", "-o", "/dev/null", "-H", "Origin: \(origin)",
                                                                 "-H", "Authorization: Bearer s3cret", "http://127.0.0.1:\(cluster.apiPort)/drivers"]).stdout
        }
        #expect(try headers(origin: "http://good.example").contains("Access-Control-Allow-Origin: http://good.example"))
        #expect(try !headers(origin: "http://evil.example").contains("Access-Control-Allow-Origin"))
        let url = "ws://127.0.0.1:\(cluster.apiPort)/ws"
        #expect(try WebSocketListener(url: url, seconds: 2).finish().0 == 3)
        let (status, lines) = try WebSocketListener(url: url + "?token=s3cret", seconds: 2).finish()
        #expect(status == 0 && lines.contains { $0.contains("\"type\":\"snapshot\"") })
        #expect(try WebSocketListener(url: url + "?token=s3cret", seconds: 2, origin: "http://evil.example").finish().0 == 3)
    }

    @Test func allowTargetKeepsTestsOnApprovedTargets() throws {
        let cluster = try Cluster(drivers: 0, extraArguments: ["--allow-target", "127.0.0.0/8", "--allow-target", "Target.Example"])
        defer { cluster.stop() }
        for (target, status) in [("http://127.0.0.9:8080/", 201), ("http://target.example/", 201), ("http://10.1.2.3/", 400),
                                 ("http://[::1]/", 400), ("http://other.example/", 400)] {
            let (code, answer) = try cluster.json("POST", "/tests", body: "{\"target\": \"\(target)\", \"duration_s\": 1}")
            #expect(code == status, "\(target)")
            if status == 400 { #expect(answer["field"] as? String == "target") }
        }
        let bad = try runCommand(stampedeBinary, ["orchestrator", "--allow-target", "10.0.0.0/99"])
        #expect(bad.status == 2 && bad.stderr.contains("--allow-target"))
    }

    @Test func metricsParseAsPrometheusText() throws {
        let cluster = try Cluster(drivers: 1)
        defer { cluster.stop() }
        let (_, text) = try cluster.api("GET", "/metrics")
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            names = {f.name: f.type for f in text_string_to_metric_families(sys.stdin.read())}
            print(",".join(f"{k}={v}" for k, v in sorted(names.items())))
            """
        let out = String(decoding: try run(repositoryRoot.appendingPathComponent(".venv/bin/python"), ["-c", script], input: Data(text.utf8)),
                         as: UTF8.self)
        #expect(out.contains("stampede_drivers=gauge"))
        #expect(out.contains("stampede_requests=counter"))
        #expect(out.contains("stampede_test_latency_seconds=summary"))
        #expect(text.contains("stampede_drivers{state=\"idle\"} 1"))
    }

    @Test func twoHundredClientsKeepUpAndASilentOneIsDropped() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 1, extraArguments: ["--ws-ping-interval-ms", "500"])
        defer { cluster.stop() }
        let crowd = Process()
        crowd.executableURL = repositoryRoot.appendingPathComponent(".venv/bin/python")
        crowd.arguments = [repositoryRoot.appendingPathComponent("Tests/Interop/ws_crowd.py").path,
                           "ws://127.0.0.1:\(cluster.apiPort)/ws", "200", "40", "crowd-1"]
        let out = Pipe()
        crowd.standardOutput = out
        try crowd.run()
        try waitUntil(seconds: 30) { try websocketClients(cluster) >= 201 }
        _ = try cluster.json("POST", "/tests", body: """
            {"test_id": "crowd-1", "duration_s": 4, "connections": 4, "target": "http://127.0.0.1:\(nginx.port)/"}
            """)
        #expect(try cluster.json("POST", "/trigger", body: #"{"test_id": "crowd-1"}"#).0 == 202)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        crowd.waitUntilExit()
        let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(summary["connected"] as? Int == 200, "\(summary)")
        #expect(summary["snapshot"] as? Int == 200)
        #expect(summary["final"] as? Int == 200)
        #expect((summary["receivers_per_second"] as? [Int] ?? []).allSatisfy { $0 == 200 }, "\(summary)")
        #expect((summary["max_spread_s"] as? Double ?? 9) < 1.0, "\(summary)")
        let (_, metrics) = try cluster.api("GET", "/metrics")
        #expect(metrics.contains("stampede_websocket_dropped_total 1"), "\(metrics.split(separator: "\n").filter { $0.contains("websocket") })")
    }

    @Test func abusiveWebSocketClientsAreClosedWithTheRFCsCodes() throws {
        let cluster = try Cluster(drivers: 0)
        defer { cluster.stop() }
        let out = try run(repositoryRoot.appendingPathComponent(".venv/bin/python"),
                          [repositoryRoot.appendingPathComponent("Tests/Interop/ws_abuse.py").path, "127.0.0.1", String(cluster.apiPort)])
        let codes = try #require(try JSONSerialization.jsonObject(with: out) as? [String: Any])
        #expect(codes["unmasked"] as? Int == 1002)
        #expect(codes["bad-utf8"] as? Int == 1007)
        #expect(codes["oversized-frame"] as? Int == 1009)
        #expect(codes["fragmented-ping"] as? Int == 1002)
        #expect(codes["invalid-close-code"] as? Int == 1002)
        #expect(codes["reserved-opcode"] as? Int == 1002)
        // The server is unaffected: the API answers and a well-behaved client gets its snapshot.
        #expect(try cluster.api("GET", "/ping").0 == 200)
        let (status, lines) = try WebSocketListener(url: "ws://127.0.0.1:\(cluster.apiPort)/ws", seconds: 2).finish()
        #expect(status == 0 && lines.contains { $0.contains("\"type\":\"snapshot\"") })
    }

    @Test func sigtermClosesWebSocketsWith1001AndExitsZero() throws {
        let cluster = try Cluster(drivers: 0)
        defer { cluster.stop() }
        let ws = try WebSocketListener(url: "ws://127.0.0.1:\(cluster.apiPort)/ws", seconds: 20)
        try waitUntil(seconds: 15) { try websocketClients(cluster) == 1 }
        #expect(cluster.stopOrchestrator() == 0)
        let (_, lines) = ws.finish()
        #expect(lines.contains("CLOSED 1001"), "\(lines)")
    }
}
