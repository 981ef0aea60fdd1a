import Foundation
import Histogram
import StampedeModel
import StampedeWire

extension TestRun {
    /// The part the search's current step runs as: its newest (a search hands nothing over, so
    /// every part after the first is a step).
    var searchPart: Int { nextPart - 1 }

    /// A search step's figures: the finals of its part, merged, judged against the SLOs.
    func searchStep(rate: Double) throws -> SearchStep? {
        guard let search else { return nil }
        let used = finals.filter { $0.key.part == searchPart }.map(\.value)
        guard !used.isEmpty else { return nil }
        var total = Figures(serviceTime: HDRHistogram())
        // With scenarios, the step is judged on the searched one's figures alone.
        let searched = definition.searchScenario
        let load = definition.scenarios.first { $0.name == searched }?.load ?? definition.load
        for f in used {
            if let searched {
                guard let one = f.scenarios?[searched] else { continue }
                try total.add(try one.decodedFigures(serviceTime: one.serviceHistogram))
            } else {
                try total.add(try f.decodedFigures(serviceTime: f.serviceHistogram))
            }
        }
        let duration = used.map(\.durationS).max() ?? search.stepS
        var report = LoadReport(testID: id, mode: .tsunami, target: load.target.description, startedAt: Date(),
                                duration: duration, drivers: used.map(\.driverID), counters: total.counters, latency: total.latency,
                                serviceTime: total.serviceTime)
        if load.order == .sequence {
            report.setSessions(total.counters.sessions, histograms: total.sessions ?? SessionHistograms(), byName: [], onlyStep: load.requests[0].displayName)
        }
        return search.step(rate: rate, report: report, connections: load.connections * used.count,
                           busiest: used.compactMap(\.busiest).max() ?? 0, pacesSessions: load.pacesSessions)
    }
}

/// Where handed-over work and a search's steps take their numbers from.
extension TestRun {
    /// The first `{{seq}}` number above every share's: each share up to its count, or what it
    /// sent (its final, else what it reported). A search step starts its drivers above it.
    var nextFreeSequence: Int {
        shares.map { share, work in
            let used = work.requests ?? finals[share]?.requests ?? reported[share]?.counters.requests ?? 0
            return used == 0 ? 0 : work.shard + work.shards * (work.seqStart + used - 1) + 1
        }.max() ?? 0
    }

    /// The next part number for handed-over work.
    var nextPart: Int { (shares.keys.map(\.part).max() ?? 1) + 1 }
}
