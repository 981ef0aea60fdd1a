import Histogram
import StampedeModel

/// `metrics` topic, keyed by driver id: one second of one driver's test.
public struct IntervalMessage: Codable, Sendable, Equatable, CountersMessage {
    public private(set) var type = BusMessageKind.interval
    public var v = busMessageVersion
    public var driverID: String
    public var testID: String
    /// 1-based second of the test.
    public var t: Int
    public var requests: Int
    public var responses: Int
    public var errors: ErrorCounts
    public var bytesRead: Int
    /// HdrHistogram V2 compressed, base64: this second's latencies in µs.
    public var histogram: String
    /// Requests resent on a fresh connection after a stale keep-alive close (absent: none).
    public var retriedStale: Int?
    /// Cookies the driver's jars refused (absent: none).
    public var cookiesDropped: Int?
    /// Tsunami slots due before the end that were not sent (absent: none).
    public var unsent: Int?
    /// Why checks failed (absent: none did).
    public var checkFailures: CheckFailures?
    /// Responses by status code (absent: none, or a driver from before status codes were sent).
    public var statusCodes: StatusCodeCounts?
    /// A list of requests: the same figures per name.
    public var byName: [String: NameShare]?
    /// `order: sequence`: sessions that started and ended in this second, and their durations.
    public var sessions: SessionShare?
    /// Sockets open as the second ended.
    public var connections: Int?
    /// Tsunami: the requests this driver intended in this second. Avalanche stages: the
    /// connections it wanted as the second ended.
    public var targetRate: Double?
    public var targetConnections: Double?
    /// The part of the test this second belongs to (nil: the driver's own share; `t` counts from
    /// the part's start).
    public var part: Int?
    /// A test of several scenarios: the second's figures of each this driver runs, by name.
    public var scenarios: [String: ScenarioShare]?
    /// Where the second's time went (absent: nothing timed, or a driver from before timings).
    public var timings: TimingsShare?

    public init(driverID: String, testID: String, t: Int, requests: Int, responses: Int, errors: ErrorCounts,
                bytesRead: Int, histogram: String, part: Int? = nil, retriedStale: Int = 0) {
        self.driverID = driverID; self.testID = testID; self.t = t; self.requests = requests; self.responses = responses
        self.errors = errors; self.bytesRead = bytesRead; self.histogram = histogram; self.part = part
        self.retriedStale = retriedStale > 0 ? retriedStale : nil
    }

    private enum CodingKeys: String, CodingKey {
        case type, v, driverID = "driver_id", testID = "test_id", t, requests, responses, errors,
             bytesRead = "bytes_read", histogram, retriedStale = "retried_stale",
             cookiesDropped = "cookies_dropped", unsent, checkFailures = "check_failures", statusCodes = "status_codes",
             byName = "by_name", sessions, connections, targetRate = "target_rate", targetConnections = "target_connections", part,
             scenarios, timings
    }
}

/// `metrics` topic, keyed by driver id: one driver's whole test, sent once at its end.
public struct FinalMessage: Codable, Sendable, Equatable, CountersMessage {
    public private(set) var type = BusMessageKind.final
    public var v = busMessageVersion
    public var driverID: String
    public var testID: String
    public var startedAtMs: Int64
    public var durationS: Double
    public var requests: Int
    public var responses: Int
    public var errors: ErrorCounts
    public var bytesRead: Int
    public var histogram: String
    /// Requests resent on a fresh connection after a stale keep-alive close (absent: none).
    public var retriedStale: Int?
    public var cookiesDropped: Int?
    public var unsent: Int?
    /// The unsent requests by the second they were due in (absent: none).
    public var unsentPerSecond: [Int]?
    public var checkFailures: CheckFailures?
    public var statusCodes: StatusCodeCounts?
    public var byName: [String: NameShare]?
    public var sessions: SessionShare?
    /// The most sockets the driver had open at once.
    public var sockets: Int?
    /// Its busiest reactor thread's CPU time over wall time (1: the driver was the limit).
    public var busiest: Double?
    /// Tsunami: the uncorrected service-time histogram.
    public var serviceHistogram: String?
    public var firstError: String?
    /// The first response that failed its checks, in words.
    public var firstCheckFailure: String?
    /// True when the driver stopped early (signal or stop message).
    public var interrupted: Bool
    /// How late (ms, wall clock) the driver actually started after the trigger's `startAtMs`.
    public var startLagMs: Double?
    /// Its connect phase: time to open each connection (HdrHistogram V2 compressed, base64, µs),
    /// how long it took, first connects that failed, and how far it ran past `startAtMs`.
    public var connectHistogram: String?
    public var connectPhaseS: Double?
    public var connectPhaseErrors: Int?
    public var connectLateS: Double?
    /// The part of the test (nil: the driver's own share).
    public var part: Int?
    /// A test of several scenarios: each one's whole figures on this driver, by name.
    public var scenarios: [String: ScenarioShare]?
    /// Changes (steering) this driver applied after their instant had passed.
    public var lateChanges: [LateChange]?
    /// Where the driver's time went over the whole test.
    public var timings: TimingsShare?

    public init(driverID: String, testID: String, startedAtMs: Int64, durationS: Double, requests: Int,
                responses: Int, errors: ErrorCounts, bytesRead: Int, histogram: String,
                serviceHistogram: String?, firstError: String?, interrupted: Bool) {
        self.driverID = driverID; self.testID = testID; self.startedAtMs = startedAtMs; self.durationS = durationS
        self.requests = requests; self.responses = responses; self.errors = errors; self.bytesRead = bytesRead
        self.histogram = histogram; self.serviceHistogram = serviceHistogram; self.firstError = firstError
        self.interrupted = interrupted
    }

    private enum CodingKeys: String, CodingKey {
        case type, v, driverID = "driver_id", testID = "test_id", startedAtMs = "started_at_ms",
             durationS = "duration_s", requests, responses, errors, bytesRead = "bytes_read", histogram,
             retriedStale = "retried_stale", cookiesDropped = "cookies_dropped", unsent, unsentPerSecond = "unsent_per_second",
             checkFailures = "check_failures",
             statusCodes = "status_codes", byName = "by_name", sessions, sockets, busiest,
             serviceHistogram = "service_histogram", firstError = "first_error", firstCheckFailure = "first_check_failure", interrupted,
             startLagMs = "start_lag_ms", connectHistogram = "connect_histogram",
             connectPhaseS = "connect_phase_s", connectPhaseErrors = "connect_phase_errors",
             connectLateS = "connect_late_s", part, scenarios, lateChanges = "late_changes", timings
    }
}

/// A metrics message (`interval`, `final`): what it counted. Its fields are the one mapping
/// between `Figures` and the bus: `carry` writes them, `counters` and `decodedFigures` read them.
public protocol CountersMessage {
    var requests: Int { get set }
    var responses: Int { get set }
    var errors: ErrorCounts { get set }
    var bytesRead: Int { get set }
    var histogram: String { get set }
    var retriedStale: Int? { get set }
    var cookiesDropped: Int? { get set }
    var unsent: Int? { get set }
    var checkFailures: CheckFailures? { get set }
    var statusCodes: StatusCodeCounts? { get set }
    var byName: [String: NameShare]? { get set }
    var sessions: SessionShare? { get set }
    var timings: TimingsShare? { get set }
}

extension CountersMessage {
    /// A second's figures: each name's timings only for a list of at most
    /// `NameShare.maxTimedNames` names (a final carries them all: `carry(_:)`).
    public mutating func carry(second figures: Figures) {
        carry(figures, namesTimed: NameShare.timedEachSecond(names: figures.byName.count))
    }

    /// Writes what was measured into the message's fields (a count that is zero where the
    /// message leaves it out, absent).
    /// - Parameter namesTimed: false leaves each name's timings out.
    public mutating func carry(_ figures: Figures, namesTimed: Bool = true) {
        let c = figures.counters
        requests = c.requests
        responses = c.responses
        errors = c.errors
        bytesRead = c.bytesRead
        histogram = figures.latency.encodeBase64()
        retriedStale = c.retriedStale > 0 ? c.retriedStale : nil
        cookiesDropped = c.cookiesDropped > 0 ? c.cookiesDropped : nil
        unsent = c.unsent > 0 ? c.unsent : nil
        checkFailures = c.errors.checkFailures
        statusCodes = c.statusCodes
        byName = NameShare.byName(figures.byName.entries, timed: namesTimed)
        sessions = figures.sessions.map { SessionShare(counts: c.sessions, histograms: $0) }
        timings = TimingsShare(figures.timings)
    }

    /// The counters this message carries: the one way a message becomes `LoadCounters`.
    public var counters: LoadCounters {
        var c = LoadCounters(requests: requests, responses: responses, errors: errors, bytesRead: bytesRead,
                             retriedStale: retriedStale ?? 0, statusCodes: statusCodes ?? StatusCodeCounts())
        c.cookiesDropped = cookiesDropped ?? 0
        c.unsent = unsent ?? 0
        c.errors.setCheckFailures(checkFailures)
        c.sessions = sessions?.counts ?? SessionCounts()
        return c
    }

    /// Everything the message measured, decoded once (sparse histograms, layouts checked).
    /// `serviceTime`: a final's service-time histogram, when it has one.
    public func decodedFigures(serviceTime: String? = nil) throws -> DecodedFigures {
        var sessionHistograms: SessionHistograms?
        if let share = sessions {
            sessionHistograms = SessionHistograms()
            try share.add(into: &sessionHistograms!)
        }
        let names = try (byName ?? [:]).map { name, share in
            (name: name, counters: share.counters, latency: try SparseCounts(base64: share.histogram), timings: try share.timings?.decoded())
        }
        return try DecodedFigures(counters: counters, latency: try SparseCounts(base64: histogram),
                                  serviceTime: try serviceTime.map { try SparseCounts(base64: $0) }, byName: names, sessions: sessionHistograms,
                                  timings: try timings?.decoded())
    }
}

/// One name's figures from one driver (a second, or the whole test), as `by_name` carries them.
public struct NameShare: Codable, Sendable, Equatable {
    public var requests: Int
    public var responses: Int
    public var errors: ErrorCounts
    public var statusCodes: StatusCodeCounts
    /// HdrHistogram V2 compressed, base64 (µs).
    public var histogram: String
    /// Sessions that failed at this step, by kind (absent: none).
    public var sessionFailures: ErrorCounts?
    public var checkFailures: CheckFailures?
    /// Where this name's time went (absent: nothing timed).
    public var timings: TimingsShare?

    init(requests: Int, responses: Int, errors: ErrorCounts, statusCodes: StatusCodeCounts, histogram: String) {
        self.requests = requests; self.responses = responses; self.errors = errors; self.statusCodes = statusCodes
        self.histogram = histogram
    }

    public init(_ f: NamedFigures, timed: Bool = true) {
        requests = f.counters.requests
        responses = f.counters.responses
        errors = f.counters.errors
        statusCodes = f.counters.statusCodes
        histogram = f.latency.encodeBase64()
        sessionFailures = f.counters.sessions.failures.total > 0 ? f.counters.sessions.failures : nil
        checkFailures = f.counters.errors.checkFailures
        timings = timed ? TimingsShare(f.timings) : nil
    }

    /// A driver's seconds carry each name's timings for a list of at most this many names; with
    /// more, only its final does (once), and the whole second's timings are sent as always:
    /// compressing and merging four histograms a name every second took a 1,000-name test's
    /// /ping p99 from 122 to 160 ms on a 2-core machine.
    public static let maxTimedNames = 100

    /// Whether a second of `names` names carries each one's timings (the drivers' seconds, the
    /// live feed's).
    public static func timedEachSecond(names: Int) -> Bool { names <= maxTimedNames }

    /// This name's counters (its histogram is decoded where it is merged).
    public var counters: LoadCounters {
        var c = LoadCounters(requests: requests, responses: responses, errors: errors, statusCodes: statusCodes)
        c.errors.setCheckFailures(checkFailures)
        c.sessions.failures = sessionFailures ?? ErrorCounts()
        return c
    }

    /// `byName` from per-name figures (nil when there are none).
    public static func byName(_ figures: [NamedFigures], timed: Bool = true) -> [String: NameShare]? {
        figures.isEmpty ? nil : Dictionary(figures.map { ($0.name, NameShare($0, timed: timed)) }, uniquingKeysWith: { a, _ in a })
    }

    private enum CodingKeys: String, CodingKey {
        case requests, responses, errors, statusCodes = "status_codes", histogram, sessionFailures = "session_failures",
             checkFailures = "check_failures", timings
    }
}

/// One driver's sessions (a second, or the whole test): the counts and the durations'
/// histograms (HdrHistogram V2 compressed, base64, µs), merged by adding like latency.
public struct SessionShare: Codable, Sendable, Equatable {
    public var counts: SessionCounts
    public var durationHistogram: String
    public var activeHistogram: String
    /// The open model only (absent: no session waited for a connection).
    public var startDelayHistogram: String?

    init(counts: SessionCounts, durationHistogram: String, activeHistogram: String) {
        self.counts = counts; self.durationHistogram = durationHistogram; self.activeHistogram = activeHistogram
    }

    public init(counts: SessionCounts, histograms: SessionHistograms) {
        self.counts = counts
        durationHistogram = histograms.duration.encodeBase64()
        activeHistogram = histograms.active.encodeBase64()
        startDelayHistogram = histograms.startDelay.totalCount > 0 ? histograms.startDelay.encodeBase64() : nil
    }

    /// Adds this share's histograms into `into`, decoding each once (all before any is added, so
    /// a bad message adds nothing).
    public func add(into h: inout SessionHistograms) throws {
        let duration = try SparseCounts(base64: durationHistogram)
        let active = try SparseCounts(base64: activeHistogram)
        let delay = try startDelayHistogram.map { try SparseCounts(base64: $0) }
        try h.duration.add(duration)
        try h.active.add(active)
        if let delay { try h.startDelay.add(delay) }
    }

    private enum CodingKeys: String, CodingKey {
        case counts, durationHistogram = "duration_histogram", activeHistogram = "active_histogram",
             startDelayHistogram = "start_delay_histogram"
    }
}

/// Timings (`Timings`) as a metrics message carries them: each phase's histogram (HdrHistogram
/// V2 compressed, base64, µs), absent when empty; merged by adding, like latency.
public struct TimingsShare: Codable, Sendable, Equatable {
    public var connect: String?
    public var tls: String?
    public var waiting: String?
    public var receiving: String?

    /// Nothing timed yet (as `{}` reads).
    init() {}

    /// nil when nothing was timed (the message leaves `timings` out).
    public init?(_ t: Timings) {
        guard !t.isEmpty else { return nil }
        func encoded(_ h: HDRHistogram) -> String? { h.totalCount > 0 ? h.encodeBase64() : nil }
        connect = encoded(t.connect); tls = encoded(t.tls); waiting = encoded(t.waiting); receiving = encoded(t.receiving)
    }

    /// Each histogram decoded once (all before any is added, so a bad message adds nothing).
    public func decoded() throws -> DecodedTimings {
        try DecodedTimings(connect: try connect.map { try SparseCounts(base64: $0) }, tls: try tls.map { try SparseCounts(base64: $0) },
                           waiting: try waiting.map { try SparseCounts(base64: $0) }, receiving: try receiving.map { try SparseCounts(base64: $0) })
    }

    private enum CodingKeys: String, CodingKey {
        case connect = "connect_us", tls = "tls_us", waiting = "waiting_us", receiving = "receiving_us"
    }
}
