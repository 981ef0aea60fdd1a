import Foundation
import Testing
import TestSupport

/// `stampede bench` with a list of requests: checks, status codes, per-name results, the Vegeta
/// format, journeys, and bad input.
@Suite(.serialized) struct WorkloadBenchTests {
    @Test func checksStatusCodesAndPerNameResultsMatchNginx() throws {
        let nginx = try workloadNginx()
        defer { nginx.stop() }
        let base = "http://127.0.0.1:\(nginx.port)"
        let targets = try temporaryFile("checks.json", """
            [{"name": "ok", "url": "\(base)/a", "expect_body": "alpha"},
             {"name": "wrong-body", "url": "\(base)/b", "expect_body": "nope"},
             {"name": "expected-200", "url": "\(base)/missing", "expect_status": [200]},
             {"name": "plain-404", "url": "\(base)/gone"},
             {"name": "classes", "url": "\(base)/c", "expect_status": ["2xx", 304]}]
            """)
        let run = try runCommand(stampedeBinary, ["bench", "--targets", targets, "--requests", "5000", "-c", "8", "--seed", "7", "--json"],
                                 timeout: 120)
        let report = try jsonObject(run.stdout)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = try nginx.accessLog(expecting: 5000)
        #expect(lines.count == 5000)
        let byPath = logCounts(lines, field: 2)
        let byStatus = logCounts(lines, field: 3)
        let byName = try #require(report["by_name"] as? [String: [String: Any]])
        func figures(_ name: String) -> (requests: Int, responses: Int, errors: [String: Int], codes: [String: Int]) {
            let f = byName[name] ?? [:]
            return (f["requests"] as? Int ?? -1, f["responses"] as? Int ?? -1, f["errors"] as? [String: Int] ?? [:],
                    f["status_codes"] as? [String: Int] ?? [:])
        }
        // Every name's count is nginx's count of its path, exactly.
        for (name, path) in [("ok", "/a"), ("wrong-body", "/b"), ("expected-200", "/missing"), ("plain-404", "/gone"), ("classes", "/c")] {
            #expect(figures(name).requests == byPath[path], "\(name): \(figures(name).requests) vs nginx \(byPath[path] ?? 0)")
            #expect(figures(name).responses == byPath[path])
        }
        let codes = try #require(report["status_codes"] as? [String: Int])
        #expect(codes["404"] == byStatus["404"] && codes["200"] == byStatus["200"], "\(codes) vs nginx \(byStatus)")
        // Checks: a body without the substring, a status outside expect_status.
        #expect(figures("ok").errors["check"] == 0)
        #expect(figures("wrong-body").errors["check"] == figures("wrong-body").responses)
        #expect(figures("expected-200").errors["check"] == figures("expected-200").responses)
        #expect(figures("expected-200").errors["status_4xx"] == 0, "judged by expect_status, not by class")
        #expect(figures("expected-200").codes["404"] == figures("expected-200").responses)
        #expect(figures("plain-404").errors["status_4xx"] == figures("plain-404").responses && figures("plain-404").errors["check"] == 0)
        #expect(figures("classes").errors["check"] == 0)
        let errors = try #require(report["errors"] as? [String: Int])
        #expect(errors["check"] == figures("wrong-body").responses + figures("expected-200").responses)
        #expect(report["seed"] as? Int == 7)

        // Per-name histograms decode with Python's hdrhistogram and add up to the total.
        let names = byName.keys.sorted()
        let decoded = try python("decode", ["b64": names.map { byName[$0]!["histogram"] as! String } + [report["histogram"] as! String]],
                                 as: [PythonStats].self)
        #expect(decoded.dropLast().map(\.total).reduce(0, +) == decoded.last!.total)
        #expect(decoded.last!.total == 5000)
        for (k, name) in names.enumerated() { #expect(decoded[k].total == Int64(figures(name).responses)) }
    }

    @Test func vegetaTargetsCarryMethodHeadersAndBodyFile() throws {
        let nginx = try workloadNginx()
        defer { nginx.stop() }
        let base = "http://127.0.0.1:\(nginx.port)"
        let body = try temporaryFile("body.json", String(repeating: "x", count: 123))
        let targets = try temporaryFile("targets.txt", """
            # two targets, as Vegeta writes them
            GET \(base)/v1
            X-Test: one

            POST \(base)/v2
            Content-Type: application/json
            X-Test: two
            @\(body)
            """)
        let run = try runCommand(stampedeBinary, ["bench", "--targets", targets, "--requests", "10", "-c", "1", "--order", "sequence", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = try nginx.accessLog(expecting: 10)
        #expect(lines.filter { $0 == "GET /v1 200 - one" }.count == 5, "\(lines)")
        #expect(lines.filter { $0 == "POST /v2 200 123 two" }.count == 5, "\(lines)")
        let report = try jsonObject(run.stdout)
        #expect((report["by_name"] as? [String: Any])?.keys.sorted() == ["GET /v1", "POST /v2"])

        // The summary: a row per name, the status codes, the seed to repeat it.
        let summary = try runCommand(stampedeBinary, ["bench", "--targets", targets, "--requests", "10", "-c", "1", "--order", "sequence"])
        #expect(summary.status == 0, "\(summary.stderr)")
        let rows = summary.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        #expect(rows.contains { $0.hasPrefix("GET /v1 5 5 0 ") } && rows.contains { $0.hasPrefix("POST /v2 5 5 0 ") }, "\(summary.stdout)")
        #expect(summary.stdout.contains("Status codes: 200: 10") && summary.stdout.contains("Seed: "), "\(summary.stdout)")
    }

    @Test func sequenceOrderKeepsEachConnectionsJourney() throws {
        let nginx = try workloadNginx()
        defer { nginx.stop() }
        let base = "http://127.0.0.1:\(nginx.port)"
        let targets = try temporaryFile("journey.json", """
            [{"name": "login", "url": "\(base)/login?conn={{conn}}"},
             {"name": "browse", "url": "\(base)/browse?conn={{conn}}", "weight": 50},
             {"name": "buy", "url": "\(base)/buy?conn={{conn}}"}]
            """)
        let run = try runCommand(stampedeBinary, ["bench", "--targets", targets, "--order", "sequence", "--requests", "300", "-c", "4", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        var journeys: [String: [String]] = [:]
        for line in try nginx.accessLog(expecting: 300) {
            let uri = line.split(separator: " ")[1]
            let parts = uri.split(separator: "?")
            journeys[String(parts[1]), default: []].append(String(parts[0]))
        }
        #expect(journeys.count == 4)
        for (conn, paths) in journeys {
            let expected = (0..<paths.count).map { ["/login", "/browse", "/buy"][$0 % 3] }
            #expect(paths == expected, "\(conn): \(paths.prefix(9))")
        }
    }

    /// Two origins (nginx's plain and TLS ports): each connection opens one socket per origin,
    /// lazily, and keeps both alive.
    @Test func requestsToSeveralOriginsShareTheirConnectionSlots() throws {
        let nginx = try workloadNginx()
        defer { nginx.stop() }
        let targets = try temporaryFile("origins.json", """
            [{"name": "plain", "url": "http://127.0.0.1:\(nginx.port)/a", "expect_body": "alpha"},
             {"name": "tls", "url": "https://127.0.0.1:\(nginx.tlsPort)/b", "expect_body": "beta"}]
            """)
        let run = try runCommand(stampedeBinary, ["bench", "--targets", targets, "--requests", "2000", "-c", "4",
                                                  "--cacert", nginx.certificate, "--json"], timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try jsonObject(run.stdout)
        let errors = report["errors"] as? [String: Int] ?? [:]
        #expect(errors.values.reduce(0, +) == 0, "\(errors)")
        #expect(report["responses"] as? Int == 2000)
        #expect(report["sockets"] as? Int == 8, "4 connections x 2 origins, kept alive: \(report["sockets"] ?? "-")")
        #expect((report["tls_handshakes"] as? Int ?? 0) >= 4)
        let byPath = logCounts(try nginx.accessLog(expecting: 2000), field: 2)
        let byName = report["by_name"] as? [String: [String: Any]] ?? [:]
        #expect(byName["plain"]?["responses"] as? Int == byPath["/a"] && byName["tls"]?["responses"] as? Int == byPath["/b"])
        #expect((byPath["/a"] ?? 0) + (byPath["/b"] ?? 0) == 2000)
    }

    @Test func badWorkloadInputExitsTwoNamingTheFlagAndLine() throws {
        let url = "http://127.0.0.1:9/"
        let missingBody = try temporaryFile("t1.txt", "POST \(url)\n@/nonexistent/body.json\n")
        let malformed = try temporaryFile("t2.txt", "GET \(url)\nX-Ok: 1\nnot a header\n")
        let unknown = try temporaryFile("t3.txt", "GET \(url)\n\n\nGET \(url)items/{{nope}}\n")
        let weight = try temporaryFile("t4.json", #"[{"url": "\#(url)"}, {"url": "\#(url)b", "weight": 0}]"#)
        let column = try temporaryFile("t5.json", #"[{"url": "\#(url)?id={{row.idd}}"}]"#)
        let csv = try temporaryFile("d.csv", "id,name\n1,a\n2,b\n")
        let badCSV = try temporaryFile("bad.csv", "id,name\n1,a\n2\n")
        let cases: [(arguments: [String], expected: [String])] = [
            (["--targets", missingBody], ["--targets", "line 2", "body file", "/nonexistent/body.json"]),
            (["--targets", malformed], ["--targets", "line 3", "not a header"]),
            (["--targets", unknown], ["--targets", "line 4", "unknown template {{nope}}"]),
            (["--targets", weight], ["--targets", "requests[1]", "weight"]),
            (["--targets", column, "--data", csv], ["--targets", "requests[0]", "no column 'idd'", "id, name"]),
            (["--targets", weight, url], ["not both"]),
            (["\(url)?id={{row.id}}", "--data", badCSV], ["--data", "line 3"]),
            (["\(url)?id={{rand_int:9:1}}"], ["URL", "rand_int"]),
            (["--targets", column, "-m", "POST"], ["--method", "--targets"]),
        ]
        for c in cases {
            let run = try runCommand(stampedeBinary, ["bench"] + c.arguments + ["--dry-run"])
            #expect(run.status == 2, "\(c.arguments): \(run.stdout) \(run.stderr)")
            for piece in c.expected { #expect(run.stderr.contains(piece), "\(c.arguments): \(run.stderr)") }
        }
    }
}
