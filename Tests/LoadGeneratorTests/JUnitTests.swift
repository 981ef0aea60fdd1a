import Foundation
import Testing
import TestSupport

/// `--junit FILE`: the thresholds as JUnit XML, read back by a real consumer (`junitparser`) and
/// checked against the schema Jenkins' JUnit plugin uses.
@Suite struct JUnitTests {
    struct Read: Decodable {
        struct Suite: Decodable {
            let name: String
            let tests: Int
            let failures: Int
            let errors: Int
            let properties: [String: String]
            let cases: [Case]
        }
        struct Case: Decodable {
            let name: String
            let result: String
            let message: String?
        }
        let suites: [Suite]
        /// Jenkins' JUnit schemas (junit-10.xsd) the file was checked against, and what they found.
        let schemas: Int
        let schema_errors: [String]
    }

    static func read(_ path: String) throws -> Read {
        let out = try run(repositoryRoot.appendingPathComponent(".venv/bin/python"),
                          [repositoryRoot.appendingPathComponent("Tests/Interop/junit_read.py").path, path])
        let read = try JSONDecoder().decode(Read.self, from: out)
        // Every file is valid against the schema Jenkins' JUnit (xunit) plugin uses.
        #expect(read.schemas >= 1 && read.schema_errors.isEmpty, "\(path): \(read.schema_errors)")
        return read
    }

    static func scratch() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-junit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func benchWritesOneCasePerThresholdAndFailsTheOnesThatBroke() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("out & <junit>.xml").path
        let result = try runCommand(stampedeBinary, ["bench", "http://127.0.0.1:\(nginx.port)/", "-c", "4", "--requests", "2000",
                                                     "--threshold", "p99_ms=10000", "--threshold", "max_ms=0.001",
                                                     "--threshold", "min_rps=1", "--junit", file])
        #expect(result.status == 3, "\(result.stderr)")
        let read = try Self.read(file)
        let suite = try #require(read.suites.first)
        #expect(read.suites.count == 1 && suite.name.hasPrefix("stampede.bench-"))
        #expect(suite.tests == 3 && suite.failures == 1 && suite.errors == 0, "\(suite)")
        #expect(suite.properties["requests"] == "2000" && suite.properties["responses"] == "2000", "\(suite.properties)")
        let byName = Dictionary(uniqueKeysWithValues: suite.cases.map { ($0.name, $0) })
        #expect(byName["p99_ms <= 10000"]?.result == "passed")
        #expect(byName["min_rps >= 1"]?.result == "passed")
        let failed = try #require(byName["max_ms <= 0.001"])
        #expect(failed.result == "failure" && (failed.message ?? "").hasPrefix("max_ms was "), "\(failed)")
    }

    @Test func searchWritesItsStepsAndAJunitIntoAMissingDirectoryIsRefusedBeforeAnyLoad() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A file, not `return`: `return` answers before limit_req is consulted.
        let page = dir.appendingPathComponent("ok.txt")
        try Data("ok".utf8).write(to: page)
        let nginx = try Nginx(httpSettings: "limit_req_zone $binary_remote_addr zone=one:1m rate=300r/s;",
                              locations: "location = /limited { limit_req zone=one burst=5 nodelay; limit_req_status 503; alias \(page.path); }")
        defer { nginx.stop() }
        let file = dir.appendingPathComponent("search.xml").path
        let result = try runCommand(stampedeBinary, ["search", "http://127.0.0.1:\(nginx.port)/limited", "--slo", "error_rate=0.01",
                                                     "--start-rate", "100", "--max-rate", "1600", "--step-s", "1", "--junit", file],
                                    timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        let suite = try #require(try Self.read(file).suites.first)
        let steps = suite.cases.filter { $0.name.hasSuffix("holds the SLOs") }
        #expect(steps.count >= 3 && steps.contains { $0.result == "failure" } && steps.contains { $0.result == "passed" }, "\(suite)")
        #expect(suite.cases.first { $0.name == "a rate holds every SLO" }?.result == "passed")
        #expect(suite.failures == steps.filter { $0.result == "failure" }.count)

        let before = try nginx.accessLogLines()
        for command in [["bench", "http://127.0.0.1:\(nginx.port)/"], ["run", "http://127.0.0.1:\(nginx.port)/"]] {
            let refused = try runCommand(stampedeBinary, command + ["--requests", "10", "--junit", "/nonexistent-dir/j.xml"])
            #expect(refused.status == 2 && refused.stderr.contains("--junit: no directory '/nonexistent-dir'"), "\(refused.stderr)")
        }
        #expect(try nginx.accessLogLines() == before)
    }

    /// `stampede run` (the orchestrator and drivers in one process): the orchestrator writes
    /// junit.xml beside report.json, and `--junit` gets the same document.
    @Test func theOrchestratorWritesJunitBesideTheReport() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("run.xml").path
        let result = try runCommand(stampedeBinary, ["run", "http://127.0.0.1:\(nginx.port)/", "--drivers", "2", "--requests", "200",
                                                     "--threshold", "p99_ms=0.001", "--threshold", "error_rate=0.5",
                                                     "--reports-dir", dir.path, "--junit", file, "--json"])
        #expect(result.status == 3, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let id = try #require(report["test_id"] as? String)
        let written = try String(contentsOfFile: dir.appendingPathComponent(id).appendingPathComponent("junit.xml").path, encoding: .utf8)
        #expect(written == (try String(contentsOfFile: file, encoding: .utf8)))
        let suite = try #require(try Self.read(file).suites.first)
        #expect(suite.name == "stampede.\(id)" && suite.tests == 2 && suite.failures == 1, "\(suite)")
        #expect(suite.properties["requests"] == "400")
    }

    /// A test of scenarios: one suite for the test's own thresholds and one per scenario with its
    /// own, as junitparser reads them.
    @Test func aSuitePerScenario() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("mix.json").path
        try """
            {"test_id": "mix", "thresholds": {"error_rate": 0}, "scenarios": {
              "fast": {"target": "http://127.0.0.1:\(nginx.port)/a", "connections": 2, "message_count_per_driver": 100, "thresholds": {"p99_ms": 10000}},
              "slow": {"target": "http://127.0.0.1:\(nginx.port)/b", "connections": 1, "message_count_per_driver": 50,
                       "thresholds": {"max_ms": 0.001, "min_rps": 1}}
            }}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let file = dir.appendingPathComponent("mix.xml").path
        let result = try runCommand(stampedeBinary, ["bench", config, "--junit", file])
        #expect(result.status == 3, "\(result.stderr)")
        let suites = try Self.read(file).suites
        #expect(suites.map(\.name) == ["stampede.mix", "stampede.mix.fast", "stampede.mix.slow"], "\(suites)")
        #expect(suites.map(\.tests) == [1, 1, 2] && suites.map(\.failures) == [0, 0, 1], "\(suites)")
        #expect(suites[2].properties["scenario"] == "slow" && suites[2].properties["requests"] == "50")
        #expect(suites[2].cases.first { $0.name == "max_ms <= 0.001" }?.result == "failure")
    }
}
