import Histogram
import StampedeModel
import StampedeWire

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

    /// A merged second encoded: the total, each name, the sessions and each scenario (1,000 names
    /// took ~60 ms: done off the reactor thread).
    init(encoding s: MergedInterval) {
        let f = s.figures
        encoded = f.latency.encodeBase64()
        max = f.latency.max
        byName = Dictionary(f.byName.entries.map { ($0.name, ($0.latency.encodeBase64(), $0.latency.max)) }, uniquingKeysWith: { a, _ in a })
        targetRate = s.targetRate
        errors = f.counters.errors.total
        sessions = f.sessions.map { ($0.duration.encodeBase64(), $0.duration.max) }
        scenarios = s.scenarios.mapValues { ($0.latency.encodeBase64(), $0.latency.max) }
    }

    /// A driver's interval that arrived after the second was encoded, added to it.
    mutating func fold(_ figures: DecodedFigures, byScenario: [String: DecodedFigures], errors more: Int) throws {
        var merged = try HDRHistogram(base64: encoded)
        try merged.add(figures.latency)
        encoded = merged.encodeBase64()
        errors += more
        max = merged.max
        if let late = figures.sessions {
            var h = late.duration
            if let before = sessions { try h.add(try HDRHistogram(base64: before.encoded)) }
            sessions = (h.encodeBase64(), h.max)
        }
        for e in figures.byName { byName[e.name] = try Self.fold(byName[e.name], e.latency) }
        for (name, f) in byScenario { scenarios[name] = try Self.fold(scenarios[name], f.latency) }
    }

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

/// An announced second while it is encoded off the reactor thread; `changed`: a driver's late
/// interval was added to it meanwhile.
struct EncodingSecond {
    var interval: MergedInterval
    var changed = false
}

extension TestRun {
    /// What `end` left on a frozen copy (`frozenCopy`), for the reactor's run to take (`adopt`).
    struct Ended {
        let status: Status
        let error: String?
        let report: LoadReport?
    }

    var ended: Ended { Ended(status: status, error: error, report: report) }

    /// What a final message did to the test.
    enum FinalOutcome {
        case counted
        /// Not counted: not of this test's shares, or read again after the test ended.
        case ignored
        /// From a driver that had failed: not counted (its work was handed over), but what it
        /// sent beyond its reported seconds is now listed; `amended`: the report to write again
        /// when the test had already ended.
        case sentAfterFailure(requests: Int, amended: LoadReport?)
    }

    /// Drivers not failed.
    var live: [String] { assigned.filter { !failedDrivers.contains($0) } }

    /// Shares of live drivers still without a final message.
    var pending: [Share] { shares.keys.filter { !failedDrivers.contains($0.driver) && finals[$0] == nil }.sorted() }

    var isComplete: Bool { status == .running && pending.isEmpty }

    /// A failed driver's shares without a final, each with the requests it had not reported sending.
    func unsent(by driver: String) -> [(share: Share, requests: Int)] {
        shares.compactMap { share, work in
            guard share.driver == driver, finals[share] == nil, let requests = work.requests else { return nil }
            return (share, Swift.max(0, requests - (reported[share]?.counters.requests ?? 0)))
        }.sorted { $0.share < $1.share }
    }
}

/// A running test's `GET /tests/{id}` answer, encoded, and what and when it was built from
/// (`TestBook.detailJSON`).
struct LiveDetailCache {
    let revision: [Int64]
    let builtAtMs: Int64
    let body: [UInt8]
}

/// A value handed to another thread and back whole: the sender does not touch it meanwhile (a
/// frozen copy of a run, a report being built).
struct Handoff<Value>: @unchecked Sendable {
    let value: Value
}

/// A driver's second with every histogram decoded (and checked): done off the reactor thread by
/// the metrics intake, or by `TestRun.add` itself.
struct DecodedInterval: Sendable {
    let figures: DecodedFigures
    let scenarios: [String: DecodedFigures]

    init(_ m: IntervalMessage) throws {
        figures = try m.decodedFigures()
        scenarios = try (m.scenarios ?? [:]).mapValues { try $0.decodedFigures() }
    }
}
