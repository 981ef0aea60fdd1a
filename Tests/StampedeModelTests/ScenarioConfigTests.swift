import Foundation
import Histogram
import StampedeModel
import StampedeWire
import Testing

/// `scenarios` in a TestConfig: each read as a test's load is, refused by path, and a test
/// without them is one scenario named `default`.
@Suite struct ScenarioConfigTests {
    static let browse = #""browse": {"requests": [{"name": "home", "url": "http://127.0.0.1:1/"}, {"name": "item", "url": "http://127.0.0.1:1/i"}], "order": "sequence", "test_type": "TSUNAMI", "session_rate": 5, "connections": 4, "duration_s": 10, "think_ms": 100}"#
    static let api = #""api": {"target": "http://127.0.0.1:1/api", "test_type": "TSUNAMI", "rate": 100, "duration_s": 5, "start_after_s": 5, "thresholds": {"p99_ms": 50}}"#

    static func config(_ body: String) throws -> TestConfig {
        try TestConfig(json: Array(body.utf8)) { "generated" }
    }

    @Test func scenariosAreReadInNameOrderEachWithItsLoadAndStart() throws {
        let c = try Self.config(#"{"seed": 3, "scenarios": {\#(Self.browse), \#(Self.api)}}"#)
        #expect(c.scenarios.map(\.name) == ["api", "browse"])
        let api = c.scenarios[0], browse = c.scenarios[1]
        #expect(api.startAfterS == 5 && api.endS == 10 && api.load.mode == .tsunami && api.load.pacing == .rate(100))
        #expect(api.thresholds.map(\.key) == ["p99_ms"])
        #expect(browse.load.pacesSessions && browse.load.order == .sequence && browse.load.connections == 4)
        // think_ms is a default for the scenario's requests.
        #expect(browse.load.requests.allSatisfy { $0.thinkTime != nil })
        // One test seed, a stream of it per scenario.
        #expect(api.load.seed != nil && browse.load.seed != nil && api.load.seed != browse.load.seed)
        #expect(try Self.config(#"{"seed": 3, "scenarios": {\#(Self.browse), \#(Self.api)}}"#).scenarios.map(\.load.seed) == c.scenarios.map(\.load.seed))
    }

    @Test func aTestWithoutScenariosIsOneNamedDefault() throws {
        let c = try Self.config(#"{"target": "http://127.0.0.1:1/", "duration_s": 5, "thresholds": {"p99_ms": 5}}"#)
        #expect(c.scenarios.count == 1 && c.scenarios[0].name == "default" && c.scenarios[0].startAfterS == 0)
        #expect(c.scenarios[0].thresholds.isEmpty && c.thresholds.count == 1, "the test's thresholds stay the test's")
    }

    static let long = String(repeating: "x", count: 33)
    static let refused: [(body: String, field: String)] = [
        (#"{"scenarios": {}}"#, "scenarios"),
        (#"{"scenarios": [1]}"#, "scenarios"),
        (#"{"scenarios": {"a b": {"target": "http://127.0.0.1:1/", "duration_s": 1}}}"#, "scenarios.a b"),
        (#"{"scenarios": {"\#(long)": {"target": "http://127.0.0.1:1/", "duration_s": 1}}}"#, "scenarios.\(long)"),
        (#"{"target": "http://127.0.0.1:1/", "scenarios": {\#(api)}}"#, "target"),
        (#"{"requests": [], "scenarios": {\#(api)}}"#, "requests"),
        (#"{"duration_s": 5, "scenarios": {\#(api)}}"#, "duration_s"),
        (#"{"start_after_s": 5, "target": "http://127.0.0.1:1/", "duration_s": 5}"#, "start_after_s"),
        (#"{"scenarios": {"buy": {"requests": [{"url": "http://127.0.0.1:1/"}, {"url": "http://127.0.0.1:1/"}, {"url": "ftp://x/"}], "duration_s": 1}}}"#, "scenarios.buy.requests[2].url"),
        (#"{"scenarios": {"buy": {"target": "http://127.0.0.1:1/", "duration_s": 1, "bogus": 1}}}"#, "scenarios.buy.bogus"),
        (#"{"scenarios": {"buy": {"target": "http://127.0.0.1:1/", "duration_s": 1, "seed": 1}}}"#, "scenarios.buy.seed"),
        (#"{"scenarios": {"buy": {"target": "http://127.0.0.1:1/", "duration_s": 1, "start_after_s": -1}}}"#, "scenarios.buy.start_after_s"),
        (#"{"scenarios": {"buy": {"target": "http://127.0.0.1:1/", "duration_s": 1, "session_rate": 5}}}"#, "scenarios.buy.session_rate"),
        (#"{"scenarios": {"buy": {"target": "http://127.0.0.1:1/", "duration_s": 1, "test_type": "SEARCH"}}}"#, "scenarios.buy.test_type"),
        (#"{"scenarios": {"buy": {"target": "http://127.0.0.1:1/", "duration_s": 1, "thresholds": {"checkout:p99_ms": 5}}}}"#, "scenarios.buy.thresholds"),
        (#"{"scenarios": {"buy": {"target": "http://127.0.0.1:1/", "duration_s": 1, "think_ms": 5}}}"#, "scenarios.buy.think_ms"),
        (#"{"scenarios": {"buy": {"target": "http://127.0.0.1:1/", "duration_s": 1}}, "thresholds": {"nope:p99_ms": 5}}"#, "thresholds"),
        (#"{"scenarios": {"buy": {"target": "http://127.0.0.1:1/", "duration_s": 1}}, "thresholds": {"session_p99_ms": 5}}"#, "thresholds"),
        (#"{"name": "night ly", "target": "http://127.0.0.1:1/", "duration_s": 1}"#, "name"),
        (#"{"search_scenario": "nope", "slo": {"p99_ms": 5}, "scenarios": {"buy": {"target": "http://127.0.0.1:1/"}}}"#, "search_scenario"),
        (#"{"slo": {"p99_ms": 5}, "scenarios": {"buy": {"target": "http://127.0.0.1:1/", "duration_s": 1}}}"#, "slo"),
        (#"{"search_scenario": "buy", "slo": {"p99_ms": 5}, "scenarios": {"buy": {"target": "http://127.0.0.1:1/", "test_type": "AVALANCHE"}}}"#, "scenarios.buy.test_type"),
        (#"{"search_scenario": "buy", "slo": {"p99_ms": 5}, "scenarios": {"buy": {"target": "http://127.0.0.1:1/"}, "bg": {"target": "http://127.0.0.1:1/", "duration_s": 3}}}"#, "scenarios.bg.duration_s"),
        (#"{"search_scenario": "buy", "slo": {"p98_ms": 5}, "scenarios": {"buy": {"target": "http://127.0.0.1:1/"}}}"#, "slo"),
        (#"{"name": "", "target": "http://127.0.0.1:1/", "duration_s": 1}"#, "name"),
        (#"{"name": 5, "scenarios": {"buy": {"target": "http://127.0.0.1:1/", "duration_s": 1}}}"#, "name"),
        (#"{"scenarios": {"buy": {"target": "http://127.0.0.1:1/", "duration_s": 1, "name": "x"}}}"#, "scenarios.buy.name"),
    ]

    @Test(arguments: refused)
    func badScenariosAreRefusedNamingThePath(_ c: (body: String, field: String)) {
        let error = refusal(c.body)
        #expect(error?.field == c.field, "\(c.body): \(String(describing: error))")
        #expect(error?.status == 400)
    }

    @Test func aScenarioReportCarriesItsThresholdsIntoTheTestsNamedByScenario() throws {
        let c = try Self.config(#"{"scenarios": {\#(Self.browse), \#(Self.api)}}"#)
        var whole = LoadReport(testID: "t", mode: .tsunami, target: "x", startedAt: Date(), duration: 10, drivers: ["a"],
                               counters: LoadCounters(), latency: .init(), serviceTime: nil)
        var figures = Figures()
        figures.counters.requests = 10
        figures.counters.responses = 10
        figures.latency.record(80_000)
        let api = LoadReport(scenario: c.scenarios[0], testID: "t", figures: figures, startedAt: Date(), duration: 5, drivers: ["a"],
                             unsentPerSecond: [])
        whole.setScenarios(["api": api])
        #expect(whole.thresholds.results.map(\.name) == ["api/p99_ms"])
        #expect(!whole.thresholds.passed && whole.scenarios?["api"]?.start_after_s == 5)
    }
}

/// `stampede compare` scenario by scenario: rows for each scenario both reports have, limits
/// `SCENARIO/NAME=P%`.
@Suite struct ScenarioComparisonTests {
    static func report(p99Us buy: Int64) -> LoadReport {
        func one(_ latencyUs: Int64) -> LoadReport {
            var h = HDRHistogram()
            for _ in 0..<100 { h.record(latencyUs) }
            var c = LoadCounters()
            c.requests = 100
            c.responses = 100
            return LoadReport(testID: "t", mode: .avalanche, target: "x", startedAt: Date(), duration: 10, drivers: ["a"],
                              counters: c, latency: h, serviceTime: nil)
        }
        var whole = one(1_000)
        whole.setScenarios(["browse": one(1_000), "buy": one(buy)])
        return whole
    }

    @Test func scenariosAreComparedOneByOneAndLimitedByName() throws {
        let base = Self.report(p99Us: 10_000), new = Self.report(p99Us: 12_000)
        let limits = [try ReportComparison.limit(parsing: "buy/p99=10%"), try ReportComparison.limit(parsing: "browse/p99=10%")]
        #expect(limits[0].scenario == "buy" && limits[0].metric == .p99 && limits[0].name == nil)
        try ReportComparison.checkNames(limits, base: base, new: new)
        let comparison = ReportComparison(base: base, new: new, limits: limits)
        #expect(comparison.rows.contains { $0.label == "buy/p99" } && comparison.rows.contains { $0.label == "browse/rps" })
        #expect(comparison.regressions.map(\.label) == ["buy/p99"], "\(comparison.regressions.map(\.label))")
        #expect(throws: ConfigError.self) { try ReportComparison.checkNames([try ReportComparison.limit(parsing: "api/p99=5%")], base: base, new: new) }
    }
}
