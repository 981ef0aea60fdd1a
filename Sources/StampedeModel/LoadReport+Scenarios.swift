import Foundation
import Histogram

extension LoadReport {
    /// One scenario's report: its own figures (merged over threads or drivers like the whole),
    /// judged by its own thresholds. `unsentPerSecond`: a timed tsunami's, from its own start.
    public init(scenario: Scenario, testID: String, figures: Figures, startedAt: Date, duration: Double, drivers: [String],
                unsentPerSecond: [Int]?) {
        let load = scenario.load
        let c = figures.counters
        self.init(testID: testID, mode: load.mode, target: load.listForm ? load.target.origin : load.target.description,
                  startedAt: startedAt, duration: duration, drivers: drivers, counters: c, latency: figures.latency,
                  serviceTime: figures.serviceTime, thresholds: scenario.thresholds)
        start_after_s = scenario.startAfterS
        connections = load.connections
        setByName(figures.byName.entries)
        setTimings(figures.timings)
        if load.schedulesRequests, let unsentPerSecond { setIntended(c, perSecond: unsentPerSecond) }
        if load.order == .sequence {
            setSessions(c.sessions, histograms: figures.sessions ?? SessionHistograms(), byName: figures.byName.entries,
                        onlyStep: load.requests[0].displayName)
        }
        seed = load.seed
    }

    /// Sets `scenarios` (a test of several), the whole test's `intended` and `unsent` as their
    /// sums over the scenarios that schedule requests (none: absent), and adds each one's
    /// thresholds to the test's, named `SCENARIO/NAME` (`buy/p99_ms`): a scenario's failed
    /// threshold fails the test.
    public mutating func setScenarios(_ reports: [String: LoadReport]) {
        scenarios = reports
        let scheduled = reports.values.filter { $0.intended != nil }
        intended = scheduled.isEmpty ? nil : scheduled.compactMap(\.intended).reduce(0, +)
        unsent = scheduled.isEmpty ? nil : scheduled.compactMap(\.unsent).reduce(0, +)
        for (name, report) in reports.sorted(by: { $0.key < $1.key }) {
            for r in report.thresholds.results {
                thresholds.results.append(ThresholdReport.Result(name: "\(name)/\(r.name)", limit: r.limit, actual: r.actual, passed: r.passed))
            }
        }
        thresholds.passed = thresholds.results.allSatisfy(\.passed)
    }
}
