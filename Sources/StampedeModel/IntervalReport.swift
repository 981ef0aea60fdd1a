import Histogram

/// One second of a run, merged over all threads (a local run) or drivers (the orchestrator).
public struct IntervalReport: Sendable {
    /// 1-based: second k covers [k-1, k) seconds after the start (the last may be shorter).
    public let t: Int
    public let counters: LoadCounters
    public let latency: HDRHistogram
    /// A list of requests: the same per name (names in the order of the list).
    public let byName: [NamedFigures]
    /// Sockets open as the second ended (all threads).
    public let connections: Int
    /// Tsunami: the requests per second intended in this second (this driver's share).
    public let targetRate: Double?
    /// Avalanche stages: the connections wanted as the second ended.
    public let targetConnections: Double?
    /// `order: sequence`: durations of the sessions that ended in this second (their counts are
    /// in `counters.sessions`).
    public let sessions: SessionHistograms?

    public init(t: Int, counters: LoadCounters, latency: HDRHistogram, byName: [NamedFigures], connections: Int,
                targetRate: Double?, targetConnections: Double?, sessions: SessionHistograms? = nil) {
        self.sessions = sessions
        self.t = t; self.counters = counters; self.latency = latency; self.byName = byName
        self.connections = connections; self.targetRate = targetRate; self.targetConnections = targetConnections
    }
}
