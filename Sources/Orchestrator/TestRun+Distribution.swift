import StampedeModel
import StampedeWire

/// What a distributed test's report says about its drivers beyond their figures: their clocks,
/// the ones left out, seconds the feed announced without them, and what a failed driver sent
/// that could not be counted.
extension TestRun {
    /// A failed driver came back and sent its final: its work was handed over when it failed, so
    /// nothing of it is counted, but what it sent beyond its reported seconds reached the target
    /// and the report says how much (once per share: a final delivered twice counts once).
    func noteFinalAfterFailure(_ m: FinalMessage, share: Share) {
        guard finalsAfterFailure.insert(share).inserted else { return }
        let beyond = Swift.max(0, m.requests - (reported[share]?.counters.requests ?? 0))
        sentAfterFailure[m.driverID, default: 0] += beyond
    }

    func setDistribution(_ report: inout LoadReport) {
        report.clock_offsets_ms = clockOffsetsMs.isEmpty ? nil : clockOffsetsMs
        report.refused_drivers = refusedDrivers.isEmpty ? nil : refusedDrivers
        report.late_seconds = lateSeconds.isEmpty ? nil : lateSeconds
        report.sent_after_failure = sentAfterFailure.isEmpty ? nil : sentAfterFailure
    }
}

extension TestRun {
    /// Once its report and files are written, a test lets go of what only merging needed: every
    /// share's histograms (one per name each), the seconds kept for latency.hlog, the live events.
    /// What a late final from a failed driver is judged against (each share's reported counters)
    /// stays. A 1,000-name test held 50 MB until the orchestrator restarted.
    func releaseMeasurements() {
        reported = reported.mapValues { Figures(counters: $0.counters) }
        intervals = [:]
        compactIntervals = [:]
        liveIntervals = []
        dropReportedLatency()
        for share in finals.keys {
            finals[share]!.histogram = ""
            finals[share]!.serviceHistogram = nil
            finals[share]!.connectHistogram = nil
            finals[share]!.byName = nil
            finals[share]!.sessions = nil
        }
    }
}

