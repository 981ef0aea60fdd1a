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
        var counters = LoadCounters()
        var latency = HDRHistogram()
        var service = HDRHistogram()
        var sessions = SessionHistograms()
        for f in used {
            counters += f.counters
            try latency.add(try SparseCounts(base64: f.histogram))
            if let s = f.serviceHistogram { try service.add(try SparseCounts(base64: s)) }
            try f.sessions?.add(into: &sessions)
        }
        let duration = used.map(\.durationS).max() ?? search.stepS
        var report = LoadReport(testID: id, mode: .tsunami, target: definition.target.description, startedAt: Date(),
                                duration: duration, drivers: used.map(\.driverID), counters: counters, latency: latency,
                                serviceTime: service)
        if definition.load.order == .sequence {
            report.setSessions(counters.sessions, histograms: sessions, byName: [], onlyStep: definition.load.requests[0].displayName)
        }
        return search.step(rate: rate, report: report, connections: definition.load.connections * used.count,
                           busiest: used.compactMap(\.busiest).max() ?? 0, pacesSessions: definition.load.pacesSessions)
    }
}
