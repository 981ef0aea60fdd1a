import Foundation
import StampedeModel
import Testing
import TestSupport

/// `stampede bench FILE` with three scenarios at once against nginx: each scenario's counts are
/// nginx's for its paths, a late scenario starts late, per-scenario percentiles are Python
/// hdrhistogram's reading of its histogram, and a scenario's failed threshold fails the run.
@Suite struct ScenarioBenchTests {
    static func file(port: Int) -> String {
        let base = "http://127.0.0.1:\(port)"
        return """
            {"test_id": "three", "seed": 11, "scenarios": {
              "browse": {"requests": [{"name": "home", "url": "\(base)/browse/home"}, {"name": "item", "url": "\(base)/browse/item/{{seq}}"}],
                         "order": "sequence", "test_type": "TSUNAMI", "session_rate": 20, "connections": 8, "duration_s": 4, "think_ms": 50},
              "buy": {"requests": [{"name": "login", "url": "\(base)/buy/login", "method": "POST", "body": "u=1", "headers": {"X-Token": "own"}},
                                   {"name": "cart", "url": "\(base)/buy/cart"}],
                      "order": "sequence", "connections": 2, "duration_s": 4, "think_ms": 20},
              "api": {"target": "\(base)/api/items", "test_type": "TSUNAMI", "rate": 150, "connections": 4, "duration_s": 2, "start_after_s": 2}
            }}
            """
    }

    @Test func threeScenariosCountWhatNginxServedEachStartingWhenAsked() throws {
        let nginx = try Nginx(logFormat: "$msec $request_uri $http_x_token")
        defer { nginx.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-scenarios-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("three.json").path
        try Self.file(port: nginx.port).write(toFile: path, atomically: true, encoding: .utf8)
        let hlog = dir.appendingPathComponent("run.hlog").path, page = dir.appendingPathComponent("run.html").path
        let result = try runCommand(stampedeBinary, ["bench", path, "-H", "X-Token: abc", "--json", "--hlog", hlog, "--html", page,
                                                     "--threshold", "api/p99_ms=10000"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONDecoder().decode(LoadReport.self, from: Data(result.stdout.utf8))
        let scenarios = try #require(report.scenarios)
        #expect(scenarios.keys.sorted() == ["api", "browse", "buy"])
        let total = scenarios.values.map(\.requests).reduce(0, +)
        #expect(report.requests == total && report.test_id == "three")
        let lines = try nginx.accessLog(expecting: total)
        #expect(lines.count == total)
        func served(_ prefix: String) -> [(at: Double, token: String)] {
            lines.compactMap { line in
                let f = line.split(separator: " ").map(String.init)
                return f.count == 3 && f[1].hasPrefix(prefix) ? (Double(f[0]) ?? 0, f[2]) : nil
            }
        }
        for (name, prefix) in [("browse", "/browse/"), ("buy", "/buy/"), ("api", "/api/")] {
            #expect(served(prefix).count == scenarios[name]!.responses && scenarios[name]!.errors.total == 0, "\(name)")
        }
        // The API scenario: rate × duration, every one sent, starting 2 s after the others.
        let api = scenarios["api"]!
        #expect(api.intended == 300 && api.requests == 300 && api.unsent == 0 && api.start_after_s == 2)
        let firstAPI = served("/api/").map(\.at).min() ?? 0, firstOther = served("/b").map(\.at).min() ?? 0
        #expect(firstAPI - firstOther >= 1.9 && firstAPI - firstOther < 2.5, "api began \(firstAPI - firstOther) s after the others")
        // Sessions per scenario: 20 a second for 4 s browse; buy's closed loop of 2 users.
        let browse = scenarios["browse"]!
        #expect(browse.sessions?.started == 80 && browse.sessions?.completed == 80 && browse.requests == 160)
        #expect(scenarios["buy"]!.sessions.map { $0.completed > 20 && $0.failed_total == 0 } == true)
        #expect(Set(browse.by_name?.keys.map { $0 } ?? []) == ["home", "item"])
        // -H reached every request that did not set the header itself.
        #expect(served("/buy/login").allSatisfy { $0.token == "own" })
        #expect(lines.count - served("/buy/login").count == lines.filter { $0.hasSuffix(" abc") }.count)
        // Per-scenario percentiles: Python hdrhistogram reads each scenario's histogram alike.
        let ps = [50.0, 90, 99, 99.9]
        let decoded = try python("decode", ["b64": scenarios.keys.sorted().map { scenarios[$0]!.histogram }, "percentiles": ps],
                                 as: [PythonStats].self)
        for (name, d) in zip(scenarios.keys.sorted(), decoded) {
            let l = scenarios[name]!.latency_us
            #expect(d.total == Int64(scenarios[name]!.responses) && d.values == [l.p50, l.p90, l.p99, l.p999] && d.max == l.max, "\(name)")
        }
        struct Log: Decodable { let total: Int64; let tags: [String: Int64] }
        let log = try python("readlog", ["path": hlog, "percentiles": ps], as: Log.self)
        #expect(log.total == Int64(report.responses))
        for name in ["api", "browse", "buy"] { #expect(log.tags["scenario.\(name)"] == Int64(scenarios[name]!.responses), "\(log.tags)") }
        #expect(report.thresholds.results.map(\.name) == ["api/p99_ms"] && report.thresholds.passed)
        // report.html: a table of the scenarios, their rates on one chart, their percentiles on another.
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("<h2>Scenarios</h2>") && html.contains("Responses per second, per scenario")
                && html.contains("Latency by percentile, per scenario"))
    }

    @Test func aScenariosFailedThresholdFailsTheRunNamingIt() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-scenarios-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
            {"scenarios": {
              "fast": {"target": "http://127.0.0.1:\(nginx.port)/a", "connections": 2, "message_count_per_driver": 200, "thresholds": {"p99_ms": 10000}},
              "slow": {"target": "http://127.0.0.1:\(nginx.port)/b", "connections": 2, "message_count_per_driver": 200, "thresholds": {"max_ms": 0.001}}
            }}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try runCommand(stampedeBinary, ["bench", path])
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stdout.contains("Threshold fast/p99_ms <= 10000.0: passed"), "\(result.stdout)")
        #expect(result.stdout.contains("Threshold slow/max_ms <= 0.001: FAILED"), "\(result.stdout)")
        #expect(result.stdout.contains("Scenario fast (avalanche): 200 requests, 200 responses"), "\(result.stdout)")
        // Bad input is refused before any load, naming the file, the path, or the flag.
        let bad = try runCommand(stampedeBinary, ["bench", path, "--threshold", "nope/p99_ms=5"])
        #expect(bad.status == 2 && bad.stderr.contains("no scenario 'nope'") && bad.stderr.contains("fast, slow"), "\(bad.stderr)")
        let flag = try runCommand(stampedeBinary, ["bench", path, "--rate", "5"])
        #expect(flag.status == 2 && flag.stderr.contains("--rate: the test file"), "\(flag.stderr)")
        // A scenario's threshold judged live, with abort: the run stops early, naming it.
        try """
            {"scenarios": {
              "fast": {"target": "http://127.0.0.1:\(nginx.port)/a", "connections": 2, "duration_s": 20},
              "slow": {"target": "http://127.0.0.1:\(nginx.port)/b", "connections": 2, "duration_s": 20}
            }}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let started = Date()
        let aborted = try runCommand(stampedeBinary, ["bench", path, "--threshold", "slow/max_ms=0.001,abort-after=1s"])
        #expect(aborted.status == 3 && Date().timeIntervalSince(started) < 10, "\(aborted.stderr)")
        #expect(aborted.stdout.split(separator: "\n").last?.hasPrefix("Aborted at ") == true
                && aborted.stdout.contains("slow/max_ms was"), "\(aborted.stdout)")
        try #"{"scenarios": {"buy": {"target": "http://127.0.0.1:1/", "duration_s": 1, "rate": 5}}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        let field = try runCommand(stampedeBinary, ["bench", path])
        #expect(field.status == 2 && field.stderr.contains("scenarios.buy.rate"), "\(field.stderr)")
    }
}

/// A YAML test file is the same document as its JSON: run, validated, and refused by path.
@Suite struct YAMLTestFileTests {
    @Test func aYAMLFileRunsLikeItsJSON() throws {
        let nginx = try Nginx(logFormat: "$request_uri")
        defer { nginx.stop() }
        let file = try temporaryFile("shop.yaml", """
            # two scenarios
            test_id: from-yaml
            scenarios:
              home:
                target: "http://127.0.0.1:\(nginx.port)/home"
                connections: 2
                message_count_per_driver: 120
              api:
                requests:
                  - {name: list, url: "http://127.0.0.1:\(nginx.port)/api/list"}
                  - {name: item, url: "http://127.0.0.1:\(nginx.port)/api/item/{{seq}}", weight: 3}
                connections: 1
                message_count_per_driver: 80
                thresholds: {error_rate: 0}
            """)
        let validated = try runCommand(stampedeBinary, ["validate", file, "--drivers", "2"])
        #expect(validated.status == 0 && validated.stdout.contains("2 scenario(s) over 2 driver(s)"), "\(validated.stdout)\(validated.stderr)")
        let result = try runCommand(stampedeBinary, ["bench", file, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONDecoder().decode(LoadReport.self, from: Data(result.stdout.utf8))
        #expect(report.test_id == "from-yaml" && report.scenarios?["home"]?.requests == 120 && report.scenarios?["api"]?.requests == 80)
        let lines = try nginx.accessLog(expecting: 200)
        #expect(lines.filter { $0.hasPrefix("/home") }.count == 120 && lines.filter { $0.hasPrefix("/api/") }.count == 80)
        #expect(report.thresholds.results.map(\.name) == ["api/error_rate"] && report.thresholds.passed)
        let bad = try temporaryFile("bad.yaml", "scenarios:\n  a: {target: \"http://127.0.0.1:1/\", duration_s: 1, rate: yes}\n")
        let refused = try runCommand(stampedeBinary, ["validate", bad])
        #expect(refused.status == 2 && refused.stderr.contains("scenarios.a.rate: must be a number"), "\(refused.stderr)")
    }
}

/// `sessions: N` / `--sessions N`: exactly N sessions, each run to its end; `{{scenario}}`, and
/// `{{seq}}` unique across scenarios.
@Suite struct SessionCountTests {
    @Test func exactlyNSessionsRunEachToItsEndSharedByThreadsAndConnections() throws {
        let nginx = try Nginx(logFormat: "$request_uri")
        defer { nginx.stop() }
        let list = try temporaryFile("sessions.json", """
            [{"name": "a", "url": "http://127.0.0.1:\(nginx.port)/a/{{session}}"}, {"name": "b", "url": "http://127.0.0.1:\(nginx.port)/b/{{session}}", "think_ms": 5}]
            """)
        let result = try runCommand(stampedeBinary, ["bench", "--targets", list, "--order", "sequence", "--sessions", "101", "-c", "7", "-t", "2", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONDecoder().decode(LoadReport.self, from: Data(result.stdout.utf8))
        #expect(report.sessions?.started == 101 && report.sessions?.completed == 101 && report.requests == 202)
        let lines = try nginx.accessLog(expecting: 202)
        #expect(lines.count == 202)
        // Every session that began also ended: its a and its b, each session number once.
        let a = Set(lines.filter { $0.hasPrefix("/a/") }.map { $0.dropFirst(3) }), b = Set(lines.filter { $0.hasPrefix("/b/") }.map { $0.dropFirst(3) })
        #expect(a.count == 101 && a == b)
        let refused = try runCommand(stampedeBinary, ["bench", "--targets", list, "--sessions", "5"])
        #expect(refused.status == 2 && refused.stderr.contains("--sessions") && refused.stderr.contains("order: sequence"), "\(refused.stderr)")
        // Over drivers, the total: fewer sessions than drivers leaves some drivers none to run.
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-sessions-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: reports) }
        try nginx.truncateAccessLog()
        let run = try runCommand(stampedeBinary, ["run", "--targets", list, "--order", "sequence", "--sessions", "2", "--drivers", "3",
                                                  "--reports-dir", reports.path, "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let total = try JSONDecoder().decode(LoadReport.self, from: Data(run.stdout.utf8))
        let served = try nginx.accessLog(expecting: 4).count
        #expect(total.sessions?.completed == 2 && total.requests == 4 && served == 4, "\(run.stdout)")
        let both = try runCommand(stampedeBinary, ["bench", "--targets", list, "--order", "sequence", "--sessions", "5", "--duration", "2"])
        #expect(both.status == 2 && both.stderr.contains("--sessions and --duration are exclusive"), "\(both.stderr)")
    }

    @Test func scenarioTemplatesAndTestWideSequenceNumbers() throws {
        let nginx = try Nginx(logFormat: "$request_uri")
        defer { nginx.stop() }
        let base = "http://127.0.0.1:\(nginx.port)"
        let file = try temporaryFile("two.json", """
            {"scenarios": {
              "one": {"target": "\(base)/{{scenario}}/{{seq}}", "connections": 3, "message_count_per_driver": 150},
              "two": {"requests": [{"url": "\(base)/{{scenario}}/{{seq}}"}, {"url": "\(base)/{{scenario}}/s{{session}}"}], "order": "sequence",
                      "connections": 2, "sessions": 40}
            }}
            """)
        let result = try runCommand(stampedeBinary, ["bench", file, "-t", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try nginx.accessLog(expecting: 230)
        #expect(lines.count == 230)
        let one = lines.filter { $0.hasPrefix("/one/") }, two = lines.filter { $0.hasPrefix("/two/") }
        #expect(one.count == 150 && two.count == 80)
        let seqs = (one + two).compactMap { Int($0.split(separator: "/").last ?? "") }
        #expect(seqs.count == 190 && Set(seqs).count == 190, "{{seq}} repeated across scenarios")
        #expect(Set(two.filter { $0.contains("/s") }).count == 40)
    }
}
