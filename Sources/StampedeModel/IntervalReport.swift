import Histogram

/// One second of a run, merged over all threads (a local run) or drivers (the orchestrator).
public struct IntervalReport: Sendable {
    /// 1-based: second k covers [k-1, k) seconds after the start (the last may be shorter).
    public let t: Int
    /// What the second measured (`sessions`: the durations of the sessions that ended in it).
    public let figures: Figures
    /// Sockets open as the second ended (all threads).
    public let connections: Int
    /// Tsunami: the requests per second intended in this second (this driver's share).
    public let targetRate: Double?
    /// Avalanche stages: the connections wanted as the second ended.
    public let targetConnections: Double?
    /// A run of several scenarios: each one's figures in the second, in the run's order (empty
    /// for a run of one, whose figures are the whole's).
    public let scenarios: [Figures]
    /// Each scenario's `targetRate`, in the same order.
    public let scenarioTargetRates: [Double?]

    public init(t: Int, figures: Figures, connections: Int, targetRate: Double?, targetConnections: Double?, scenarios: [Figures] = [],
                scenarioTargetRates: [Double?] = []) {
        self.t = t; self.figures = figures; self.connections = connections
        self.targetRate = targetRate; self.targetConnections = targetConnections
        self.scenarios = scenarios
        self.scenarioTargetRates = scenarioTargetRates
    }

    public var counters: LoadCounters { figures.counters }
    public var latency: HDRHistogram { figures.latency }
    /// A list of requests: the same per name (in the list's order from a run; by name from the
    /// orchestrator).
    public var byName: [NamedFigures] { figures.byName.entries }
    /// `order: sequence`: durations of the sessions that ended in this second (their counts are
    /// in `counters.sessions`).
    public var sessions: SessionHistograms? { figures.sessions }
}
