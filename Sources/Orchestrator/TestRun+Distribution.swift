import StampedeModel
import StampedeWire

/// What a distributed test's report says about its drivers beyond their figures: their clocks,
/// the ones left out, seconds the feed announced without them, and what a failed driver sent
/// that could not be counted.
extension TestRun {
    func setDistribution(_ report: inout LoadReport) {
        report.clock_offsets_ms = clockOffsetsMs.isEmpty ? nil : clockOffsetsMs
        report.refused_drivers = refusedDrivers.isEmpty ? nil : refusedDrivers
        report.late_seconds = lateSeconds.isEmpty ? nil : lateSeconds
        report.sent_after_failure = sentAfterFailure.isEmpty ? nil : sentAfterFailure
    }
}
