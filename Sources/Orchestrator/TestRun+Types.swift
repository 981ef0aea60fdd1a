import Histogram
import StampedeModel

/// One interval (a second) of a test, merged over the drivers that reported it.
struct MergedInterval {
    var drivers: Set<String> = []
    /// What the second measured (`sessions`: the durations of the sessions that ended in it).
    var figures = Figures()
    /// Summed over the drivers: sockets open, and what was intended (see `IntervalMessage`).
    var connections = 0
    var targetRate: Double?
    var targetConnections: Double?
    /// A test of named scenarios: each one's figures in the second, and what it intended.
    var scenarios: [String: Figures] = [:]
    var scenarioTargetRates: [String: Double] = [:]
}

/// An interval as `Orchestrator.onInterval` hands it out (`stampede run` prints and logs it).
public struct AnnouncedInterval {
    public let testID: String
    public let interval: IntervalReport
    /// The thresholds judged on the whole test so far (empty: it has none).
    public let thresholds: [ThresholdState]
}

/// An announced interval, kept encoded for `latency.hlog`: the total and each name.
struct CompactInterval {
    var encoded: String
    var max: Int64
    var byName: [String: (encoded: String, max: Int64)]
    var targetRate: Double?
    var errors: Int
    /// The sessions' durations (`Tag=session`), when the test has sessions.
    var sessions: (encoded: String, max: Int64)?
    /// Each scenario's latency (`Tag=scenario.NAME`).
    var scenarios: [String: (encoded: String, max: Int64)] = [:]

    /// A tagged line's histogram with what arrived late for it added (already decoded: only
    /// the line's own histogram is decoded again).
    static func fold(_ before: (encoded: String, max: Int64)?, _ more: SparseCounts) throws -> (encoded: String, max: Int64) {
        var h = try before.map { try HDRHistogram(base64: $0.encoded) } ?? HDRHistogram()
        try h.add(more)
        return (h.encodeBase64(), h.max)
    }
}

/// One driver's piece of a test: part 1 is its own share; parts 2, 3, … are a failed driver's
/// unsent requests handed to it.
struct Share: Hashable, Comparable {
    let driver: String
    let part: Int

    static func < (a: Share, b: Share) -> Bool { (a.driver, a.part) < (b.driver, b.part) }
}

/// What a share was asked to do, and where its `{{seq}}` numbers and data rows lie.
struct ShareWork {
    /// Requests (count-based tests), nil for duration-based ones.
    let requests: Int?
    let startAtMs: Int64
    /// Its place among `shards` drivers: it sends sequence numbers `shard + shards * n` for
    /// positions n from `seqStart`. A handed-over part keeps the failed share's place.
    let shard: Int
    let shards: Int
    let seqStart: Int
}

extension TestRun {
    /// Each name's latency of second `t` as encoded for latency.hlog (the live feed reuses it:
    /// encoding 1,000 names twice a second held the reactor up).
    func encodedNames(second t: Int) -> [String: String] {
        compactIntervals[t]?.byName.mapValues(\.encoded) ?? [:]
    }
}
