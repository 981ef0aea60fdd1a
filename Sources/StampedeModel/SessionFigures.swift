import Histogram

/// What sessions took, in µs: from the arrival (the intended one in the open model) to the last
/// response (`duration`), the same without think time (`active`), and, in the open model, how
/// long an arrival waited for a free connection (`startDelay`). Merged by adding, like latency.
public struct SessionHistograms: Sendable {
    public var duration = HDRHistogram()
    public var active = HDRHistogram()
    public var startDelay = HDRHistogram()

    public init() {}

    public init(duration: HDRHistogram, active: HDRHistogram, startDelay: HDRHistogram) {
        self.duration = duration; self.active = active; self.startDelay = startDelay
    }

    public var isEmpty: Bool { duration.totalCount == 0 && active.totalCount == 0 && startDelay.totalCount == 0 }

    public mutating func add(_ other: SessionHistograms) throws {
        try duration.add(other.duration)
        try active.add(other.active)
        try startDelay.add(other.startDelay)
    }

    public mutating func reset() {
        duration.reset(); active.reset(); startDelay.reset()
    }
}

/// The report's `sessions` object: how many sessions started and how each ended, the failures by
/// the step where they happened and by kind, and the percentiles of their durations.
public struct SessionReport: Codable, Sendable, Equatable {
    public var started: Int
    public var completed: Int
    /// Step name → kind → sessions that failed there.
    public var failed: [String: [String: Int]]
    public var failed_total: Int
    /// Failed over ended sessions (completed + failed).
    public var error_rate: Double
    public var dropped: Int
    public var interrupted: Int
    public var duration_us: LatencySummary?
    public var active_us: LatencySummary?
    /// The open model (`session_rate`) only.
    public var start_delay_us: LatencySummary?
    /// Base64 of the HdrHistogram V2 compressed encoding of `duration_us`'s histogram.
    public var histogram: String

    /// - Parameter steps: each step's name and the failures of sessions at it.
    public init(counts: SessionCounts, steps: [(name: String, failures: ErrorCounts)], histograms h: SessionHistograms) {
        started = counts.started
        completed = counts.completed
        var failed: [String: [String: Int]] = [:]
        for step in steps where step.failures.total > 0 {
            for (kind, n) in step.failures.byKind where n > 0 { failed[step.name, default: [:]][kind, default: 0] += n }
        }
        self.failed = failed
        failed_total = counts.failed
        error_rate = (counts.errorRate * 1e6).rounded() / 1e6
        dropped = counts.dropped
        interrupted = counts.interrupted
        duration_us = h.duration.totalCount > 0 ? LatencySummary(h.duration) : nil
        active_us = h.active.totalCount > 0 ? LatencySummary(h.active) : nil
        start_delay_us = h.startDelay.totalCount > 0 ? LatencySummary(h.startDelay) : nil
        histogram = h.duration.encodeBase64()
    }
}

extension LoadReport {
    /// Sets `sessions` (`order: sequence`), with the failures by step from the per-name counters
    /// (or, without them, all under `onlyStep`, the one request's name); re-evaluates the session
    /// thresholds.
    public mutating func setSessions(_ counts: SessionCounts, histograms: SessionHistograms, byName: [NamedFigures], onlyStep: String) {
        let steps = byName.isEmpty ? [(name: onlyStep, failures: counts.failures)] : byName.map { ($0.name, $0.counters.sessions.failures) }
        sessions = SessionReport(counts: counts, steps: steps, histograms: histograms)
        thresholds.evaluateSessions(sessions!)
    }
}
