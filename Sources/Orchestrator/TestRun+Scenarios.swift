import Foundation
import Histogram
import StampedeModel
import StampedeWire

/// A test of named scenarios: each one's report, merged from the drivers that ran it (their
/// finals, and a failed driver's reported seconds) exactly as the whole test's.
extension TestRun {
    /// `start`: the test's start; `finished`: every final is in (else the figures so far, at
    /// `elapsedS`).
    func scenarioReports(start: Date, finished: Bool, elapsedS: Double) throws -> [String: LoadReport] {
        var reports: [String: LoadReport] = [:]
        for scenario in definition.scenarios {
            let name = scenario.name
            var figures = Figures(serviceTime: scenario.load.mode == .tsunami ? HDRHistogram() : nil)
            var drivers: Set<String> = []
            var unsent: [Int] = []
            var duration = 0.0
            if finished {
                for (share, final) in finals.sorted(by: { $0.key < $1.key }) {
                    guard let one = final.scenarios?[name] else { continue }
                    try figures.add(try one.decodedFigures(serviceTime: one.serviceHistogram))
                    unsent = addedPerSecond(unsent, one.unsentPerSecond ?? [])
                    duration = Swift.max(duration, one.durationS ?? 0)
                    drivers.insert(share.driver)
                }
                // A search runs every scenario in each of its steps: it lasted the whole test.
                if search != nil { duration = elapsedS }
                for (share, byName) in reportedByScenario.sorted(by: { $0.key < $1.key })
                where failedDrivers.contains(share.driver) && finals[share] == nil {
                    guard let one = byName[name] else { continue }
                    try figures.add(try one.decoded)
                    drivers.insert(share.driver)
                }
            } else {
                for (share, byName) in reportedByScenario.sorted(by: { $0.key < $1.key }) {
                    guard let one = byName[name] else { continue }
                    try figures.add(try one.decoded)
                    drivers.insert(share.driver)
                }
                duration = Swift.max(0, elapsedS - scenario.startAfterS)
            }
            var report = LoadReport(scenario: scenario, testID: id, figures: figures, startedAt: start.addingTimeInterval(scenario.startAfterS),
                                    duration: duration, drivers: drivers.sorted(), unsentPerSecond: finished ? unsent : nil)
            report.connections = scenario.load.connections * drivers.count
            reports[name] = report
        }
        return reports
    }

    /// The whole test's figures that only its scenarios know: each scenario's report, and
    /// connections over their drivers.
    func setScenarios(_ report: inout LoadReport, start: Date, finished: Bool, elapsedS: Double) throws {
        guard definition.hasScenarios else { return }
        let reports = try scenarioReports(start: start, finished: finished, elapsedS: elapsedS)
        if finished { report.connections = reports.values.compactMap(\.connections).reduce(0, +) }
        report.setScenarios(reports)
    }
}
