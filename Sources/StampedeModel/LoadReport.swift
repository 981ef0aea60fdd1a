import Foundation
import Histogram

/// Latency summary in microseconds, from a histogram (percentiles to histogram precision).
public struct LatencySummary: Codable, Sendable, Equatable {
    public var min: Int64
    public var mean: Double
    public var p50: Int64
    public var p90: Int64
    public var p99: Int64
    public var p999: Int64
    public var max: Int64

    public init(_ h: HDRHistogram) {
        let s = h.summary(atPercentiles: [50, 90, 99, 99.9])
        min = s.min
        mean = (s.mean * 10).rounded() / 10
        p50 = s.values[0]; p90 = s.values[1]; p99 = s.values[2]; p999 = s.values[3]
        max = s.max
    }
}

/// A failed driver's unsent requests and the survivors that sent them instead.
public struct Redistribution: Codable, Sendable, Equatable {
    public var from: String
    public var requests: Int
    /// Survivor id → requests it took.
    public var to: [String: Int]

    public init(from: String, requests: Int, to: [String: Int]) {
        self.from = from; self.requests = requests; self.to = to
    }
}

/// The report JSON (`bench --json` prints it; the orchestrator stores and serves it). Field
/// names are the contract documented in docs/reports.md.
public struct LoadReport: Codable, Sendable, TimingFields {
    public var test_id: String
    public var mode: String
    public var target: String
    public var started_at: String
    public var duration_s: Double
    public var drivers: [String]
    public var requests: Int
    public var responses: Int
    public var rps: Double
    public var errors: ErrorCounts
    /// Why checks failed (absent: none did).
    public var check_failures: CheckFailures?
    /// Responses by status code.
    public var status_codes: StatusCodeCounts
    public var latency_us: LatencySummary
    /// Base64 of the HdrHistogram V2 compressed encoding of the whole-run latency histogram.
    public var histogram: String
    public var partial: Bool
    public var failed_drivers: [String]
    public var thresholds: ThresholdReport
    /// Tsunami only: service time from the actual send, not corrected for coordinated omission.
    public var service_time_us: LatencySummary?
    public var connections: Int?
    /// The most sockets open at once: `connections` when every request goes to one origin, up
    /// to connections × origins for a list that names several.
    public var sockets: Int?
    public var threads: Int?
    public var bytes_read: Int?
    /// Requests resent once on a fresh connection because a reused one closed before any byte of
    /// the response (idempotent methods only; not errors, not extra requests).
    public var retried_stale: Int?
    /// Cookies refused by the jars (RFC 6265's limits, or a domain the host may not set).
    public var cookies_dropped: Int?
    /// A timed tsunami at a request rate: the requests its schedule intended (rate × duration),
    /// and those that never went out because the connections could not carry the rate.
    public var intended: Int?
    public var unsent: Int?
    /// The unsent requests by the second they were due in (`[0, 0, 3, 5]`: seconds 1-4; absent
    /// when none).
    public var unsent_per_second: [Int]?
    /// TLS handshakes, and how many resumed a saved session (https targets only).
    public var tls_handshakes: Int?
    public var tls_resumed: Int?
    /// True when the run was stopped early (Ctrl-C).
    public var interrupted: Bool?
    /// Why a distributed test could not complete (its figures are what arrived before).
    public var error: String?
    /// The first failure a load generator met, as text ("connect 10.0.0.9:80: Connection refused";
    /// a distributed test: the first driver's, by driver id); absent when nothing failed.
    public var first_error: String?
    /// The first response that failed its checks: the request's name, why (status, body), and
    /// its body's first 200 bytes (a distributed test: the first driver's, by driver id).
    public var first_check_failure: String?
    /// Count-based distributed tests: requests a failed driver had not sent, handed to survivors.
    public var redistributed: [Redistribution]?
    /// Requests a failed driver said it sent (in its final message, once it could reach the broker
    /// again) beyond the seconds it had reported before it was failed: not in `requests`, which
    /// counts only what arrived in time (its work had been handed over). By driver.
    public var sent_after_failure: [String: Int]?
    /// Distributed tests: each driver's clock minus the orchestrator's (ms) when it was given its
    /// start time; its start was moved by it, and its reported times read back with it.
    public var clock_offsets_ms: [String: Double]?
    /// Idle drivers the test did not use, and why (a clock further off than --max-clock-offset-ms).
    public var refused_drivers: [String: String]?
    /// Seconds of the live feed announced before a driver's interval for them arrived, by driver:
    /// those seconds were late on the feed (the report and latency.hlog hold them whole).
    public var late_seconds: [String: [Int]]?
    /// A list of requests: the figures of each name, exact and merged like the whole.
    public var by_name: [String: NameReport]?
    /// `order: sequence`: the sessions (passes through the list) and how they ended.
    public var sessions: SessionReport?
    /// The seed of the random mix and templates (list form, or templates in the short form).
    public var seed: UInt64?
    /// A capacity search: the steps and the highest rate at which every SLO held.
    public var search: SearchReport?
    /// A threshold with `abort_on_fail` stopped the test (it is then `partial`; absent: it was not).
    public var aborted: AbortReport?
    /// The connect phase (every connection opened before the schedule starts): time to open
    /// each one (TCP, and TLS where used), how long opening all of them took (the slowest
    /// driver), first connects that failed, and how far a driver's phase ran past the start.
    public var connect_time_us: LatencySummary?
    public var connect_phase_s: Double?
    public var connect_phase_errors: Int?
    public var connect_late_s: Double?
    /// Several scenarios: each one's own report (its figures merged like the whole, judged by
    /// its own thresholds), by name; absent for a test of one.
    public var scenarios: [String: LoadReport]?
    /// The test's family (`name` in its TestConfig: `checkout-nightly`), whose runs history lists.
    public var name: String?
    /// A scenario's report: seconds after the test's start that it began.
    public var start_after_s: Double?
    /// Steering: every change to the running load, in order (absent: none), the seconds the
    /// test was paused, and by driver the changes it applied after their instant.
    public var changes: [ChangeRecord]?
    public var paused_s: Double?
    public var late_changes: [String: [LateChange]]?
    /// Where the requests' time went (see `Timings`): each phase's percentiles (absent when
    /// nothing was measured), and the connections opened (`tls_handshakes` says the handshakes).
    public var connect_us: LatencySummary?
    public var tls_us: LatencySummary?
    public var waiting_us: LatencySummary?
    public var receiving_us: LatencySummary?
    public var connects: Int?

    /// Sets the timing fields from the merged timings.
    public mutating func setTimings(_ timings: Timings) {
        setPhases(timings)
        connects = timings.connects
        if let handshakes = timings.handshakes { tls_handshakes = handshakes }
        thresholds.evaluateTimings(self)
    }

    /// Sets the connect phase fields (`connectTime` empty: nothing connected, no percentiles).
    public mutating func setConnectPhase(connectTime: HDRHistogram, seconds: Double, errors: Int, lateSeconds: Double) {
        connect_time_us = connectTime.totalCount > 0 ? LatencySummary(connectTime) : nil
        connect_phase_s = (seconds * 1000).rounded() / 1000
        connect_phase_errors = errors
        connect_late_s = lateSeconds > 0 ? (lateSeconds * 1000).rounded() / 1000 : nil
    }

    /// A report from merged figures: `latency` is the merged histogram, counters are sums.
    public init(testID: String, mode: LoadMode, target: String, startedAt: Date, duration: Double, drivers: [String],
                counters: LoadCounters, latency: HDRHistogram, serviceTime: HDRHistogram?, partial: Bool = false,
                failedDrivers: [String] = [], thresholds: [Threshold] = []) {
        test_id = testID
        self.mode = mode.rawValue
        self.target = target
        started_at = LoadReport.rfc3339(startedAt)
        duration_s = (duration * 1000).rounded() / 1000
        self.drivers = drivers
        requests = counters.requests
        responses = counters.responses
        rps = duration > 0 ? (Double(counters.responses) / duration * 10).rounded() / 10 : 0
        errors = counters.errors
        check_failures = counters.errors.checkFailures
        status_codes = counters.statusCodes
        latency_us = LatencySummary(latency)
        histogram = latency.encodeBase64()
        self.partial = partial
        failed_drivers = failedDrivers
        service_time_us = serviceTime.map(LatencySummary.init)
        bytes_read = counters.bytesRead
        retried_stale = counters.retriedStale
        cookies_dropped = counters.cookiesDropped > 0 ? counters.cookiesDropped : nil
        self.thresholds = ThresholdReport(evaluating: thresholds, requests: counters.requests, responses: counters.responses,
                                          errors: counters.errors, rps: rps, latency: latency_us, unsent: counters.unsent)
    }

    /// What a request's name gets for its redirect hops (`follow_redirects`): `login redirect`.
    public static let redirectSuffix = " redirect"

    /// A timed tsunami at a request rate: `intended` and `unsent` (0 unsent is said too).
    public mutating func setIntended(_ counters: LoadCounters, perSecond: [Int]) {
        intended = counters.requests + counters.unsent
        unsent = counters.unsent
        unsent_per_second = perSecond.contains { $0 > 0 } ? perSecond : nil
    }

    /// Sets `by_name` from per-name figures (nil when there are none).
    public mutating func setByName(_ figures: [NamedFigures]) {
        // A request's redirect hops appear once there were any.
        let shown = figures.filter { !($0.name.hasSuffix(Self.redirectSuffix) && $0.counters.requests == 0) }
        by_name = shown.isEmpty ? nil : Dictionary(shown.map { ($0.name, NameReport($0)) }, uniquingKeysWith: { a, _ in a })
        thresholds.evaluateNames(by_name ?? [:], duration: duration_s)
    }

    public static func rfc3339(_ date: Date) -> String { UTCTimestamp.rfc3339(date, milliseconds: true) }

    /// Pretty, key-sorted JSON.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}

/// One name's counters and latency histogram (a list of requests reports one per name).
public struct NamedFigures: Sendable {
    public let name: String
    public var counters: LoadCounters
    public var latency: HDRHistogram
    public var timings: Timings

    public init(name: String, counters: LoadCounters = LoadCounters(), latency: HDRHistogram = HDRHistogram(), timings: Timings = Timings()) {
        self.name = name; self.counters = counters; self.latency = latency; self.timings = timings
    }

    /// Adds another share of the same name (another thread, driver or second).
    public mutating func add(_ other: NamedFigures) throws {
        counters += other.counters
        try latency.add(other.latency)
        try timings.add(other.timings)
    }
}

/// A name's entry in `by_name`.
public struct NameReport: Codable, Sendable, TimingFields {
    public var requests: Int
    public var responses: Int
    public var errors: ErrorCounts
    public var check_failures: CheckFailures?
    public var status_codes: StatusCodeCounts
    public var latency_us: LatencySummary
    public var histogram: String
    /// Where this name's time went (see `Timings`), and the connections and TLS handshakes its
    /// requests opened.
    public var connect_us: LatencySummary?
    public var tls_us: LatencySummary?
    public var waiting_us: LatencySummary?
    public var receiving_us: LatencySummary?
    public var connects: Int?
    public var tls_handshakes: Int?

    /// - Parameters:
    ///   - timings: false leaves the timing fields out (the live feed of a test with many names:
    ///     four percentile scans a name each second held the reactor up).
    ///   - encoded: the latency histogram already encoded (the live feed encodes each second's
    ///     once, for latency.hlog too).
    public init(_ f: NamedFigures, timings: Bool = true, encoded: String? = nil) {
        requests = f.counters.requests
        responses = f.counters.responses
        errors = f.counters.errors
        check_failures = f.counters.errors.checkFailures
        status_codes = f.counters.statusCodes
        latency_us = LatencySummary(f.latency)
        histogram = encoded ?? f.latency.encodeBase64()
        guard timings else { return }
        setPhases(f.timings)
        connects = f.timings.connects; tls_handshakes = f.timings.handshakes
    }
}
