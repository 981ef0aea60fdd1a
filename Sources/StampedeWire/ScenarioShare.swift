import StampedeModel

/// One scenario's figures from one driver (a second in an `interval`, the whole test in a
/// `final`), as a metrics message's `scenarios` carries them by name: the same fields as the
/// message's own, merged alike (histograms added, never averaged).
public struct ScenarioShare: Codable, Sendable, Equatable, CountersMessage {
    public var requests = 0
    public var responses = 0
    public var errors = ErrorCounts()
    public var bytesRead = 0
    public var histogram = ""
    public var retriedStale: Int?
    public var cookiesDropped: Int?
    public var unsent: Int?
    public var checkFailures: CheckFailures?
    public var statusCodes: StatusCodeCounts?
    public var byName: [String: NameShare]?
    public var sessions: SessionShare?
    public var timings: TimingsShare?
    /// A final's: the uncorrected service time (tsunami), the unsent by the second (from the
    /// scenario's own start), and how long it ran.
    public var serviceHistogram: String?
    public var unsentPerSecond: [Int]?
    public var durationS: Double?
    /// An interval's: the requests this driver intended for the scenario in the second.
    public var targetRate: Double?

    /// Nothing yet (fields filled as they are read).
    init() {}

    /// A final's scenario (every name timed).
    public init(_ figures: Figures) { carry(figures) }

    /// An interval's scenario (`carry(second:)`).
    public init(second figures: Figures) { carry(second: figures) }

    private enum CodingKeys: String, CodingKey {
        case requests, responses, errors, bytesRead = "bytes_read", histogram, retriedStale = "retried_stale",
             cookiesDropped = "cookies_dropped", unsent, checkFailures = "check_failures", statusCodes = "status_codes",
             byName = "by_name", sessions, serviceHistogram = "service_histogram", unsentPerSecond = "unsent_per_second",
             durationS = "duration_s", targetRate = "target_rate", timings
    }
}

extension CountersMessage {
    /// The histograms the message carries (latency, timings, sessions, each name's): what merging
    /// it costs. A message's scenarios are counted by the caller.
    public var histogramCount: Int {
        func timed(_ t: TimingsShare?) -> Int { [t?.connect, t?.tls, t?.waiting, t?.receiving].compactMap { $0 }.count }
        let names = (byName ?? [:]).values.reduce(0) { $0 + 1 + timed($1.timings) }
        return 1 + timed(timings) + (sessions == nil ? 0 : 2) + names
    }
}

extension IntervalMessage {
    /// With its scenarios' histograms.
    public var histogramCountWithScenarios: Int {
        histogramCount + (scenarios ?? [:]).values.reduce(0) { $0 + $1.histogramCount }
    }
}
