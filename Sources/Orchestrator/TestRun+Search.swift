import Foundation
import Histogram
import StampedeModel
import StampedeWire

extension TestRun {
    /// A search step's figures: the finals of its part, merged, judged against the SLOs.
    func searchStep(rate: Double) throws -> SearchStep? {
        guard let search else { return nil }
        let used = finals.filter { $0.key.part == searchPart }.map(\.value)
        guard !used.isEmpty else { return nil }
        var total = Figures(serviceTime: HDRHistogram())
        for f in used { try total.add(try f.decodedFigures(serviceTime: f.serviceHistogram)) }
        let duration = used.map(\.durationS).max() ?? search.stepS
        var report = LoadReport(testID: id, mode: .tsunami, target: definition.target.description, startedAt: Date(),
                                duration: duration, drivers: used.map(\.driverID), counters: total.counters, latency: total.latency,
                                serviceTime: total.serviceTime)
        if definition.load.order == .sequence {
            report.setSessions(total.counters.sessions, histograms: total.sessions ?? SessionHistograms(), byName: [], onlyStep: definition.load.requests[0].displayName)
        }
        return search.step(rate: rate, report: report, connections: definition.load.connections * used.count,
                           busiest: used.compactMap(\.busiest).max() ?? 0, pacesSessions: definition.load.pacesSessions)
    }
}
