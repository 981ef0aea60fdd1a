import HTTP1

/// A pass/fail limit on a run: `p99_ms=50` (latency at most 50 ms), `error_rate=0.01` (at most 1 %
/// of requests failed), `min_rps=1000` (at least 1000 responses per second); `checkout:p99_ms=200`
/// limits one name of a request list (as k6's tag thresholds).
public struct Threshold: Sendable, Equatable, Codable {
    public enum Name: String, Sendable, Codable, CaseIterable {
        case p50_ms, p90_ms, p99_ms, p999_ms, max_ms, error_rate, min_rps
        /// A timed tsunami: unsent over intended requests.
        case unsent_rate
        /// Sessions (`order: sequence`): p99 of the session duration, and failed over ended sessions.
        case session_p99_ms, session_error_rate
        /// Where the time went (p99 of each phase, see `Timings`): time to first byte, the body's
        /// transfer, new connections' TCP connect and TLS handshake.
        case waiting_p99_ms, receiving_p99_ms, connect_p99_ms, tls_p99_ms

        public var isSession: Bool { self == .session_p99_ms || self == .session_error_rate }
        public var isTiming: Bool { self == .waiting_p99_ms || self == .receiving_p99_ms || self == .connect_p99_ms || self == .tls_p99_ms }
    }
    public let name: Name
    public let value: Double
    /// The request name it limits (a list's `by_name`); nil: the whole test.
    public let scope: String?
    /// Judged every second while the test runs: failing, it stops the test on every driver
    /// (k6's `abortOnFail`), but not in the test's first `delayAbortEvalS` seconds.
    public var abortOnFail = false
    public var delayAbortEvalS: Double = 0

    public init(name: Name, value: Double, scope: String? = nil, abortOnFail: Bool = false, delayAbortEvalS: Double = 0) {
        self.name = name; self.value = value; self.scope = scope
        self.abortOnFail = abortOnFail; self.delayAbortEvalS = delayAbortEvalS
    }

    /// Figures that mean nothing until the test ends cannot stop it: `unsent_rate` (the unsent
    /// are counted as connections retire) and `min_rps` (every ramp starts below it).
    public var canAbort: Bool { name != .unsent_rate && name != .min_rps }

    private enum CodingKeys: String, CodingKey { case name, value, scope, abortOnFail = "abort_on_fail", delayAbortEvalS = "delay_abort_eval_s" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(Name.self, forKey: .name)
        value = try c.decode(Double.self, forKey: .value)
        scope = try c.decodeIfPresent(String.self, forKey: .scope)
        abortOnFail = try c.decodeIfPresent(Bool.self, forKey: .abortOnFail) ?? false
        delayAbortEvalS = try c.decodeIfPresent(Double.self, forKey: .delayAbortEvalS) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(value, forKey: .value)
        try c.encodeIfPresent(scope, forKey: .scope)
        if abortOnFail {
            try c.encode(true, forKey: .abortOnFail)
            if delayAbortEvalS > 0 { try c.encode(delayAbortEvalS, forKey: .delayAbortEvalS) }
        }
    }

    /// Sets the abort options, checked: `abort_on_fail` only where the figure is judged live.
    public mutating func setAbort(_ abort: Bool, afterS delay: Double) throws(ConfigError) {
        guard delay.isFinite, delay >= 0, delay <= LoadSpec.maxDurationS else {
            throw ConfigError(.thresholds, "\(key): delay_abort_eval_s must be in 0...86400 seconds, got \(delay)")
        }
        if abort && !canAbort {
            throw ConfigError(.thresholds, "\(key): \(name.rawValue) is only known at the test's end, so it cannot abort it")
        }
        if delay > 0 && !abort { throw ConfigError(.thresholds, "\(key): delay_abort_eval_s applies with abort_on_fail") }
        abortOnFail = abort
        delayAbortEvalS = delay
    }

    /// How it is written and reported: `p99_ms`, or `checkout:p99_ms`.
    public var key: String { scope.map { "\($0):\(name.rawValue)" } ?? name.rawValue }

    /// Names a scoped threshold may use (figures every name has).
    static let perName: Set<Name> = [.p50_ms, .p90_ms, .p99_ms, .p999_ms, .max_ms, .error_rate, .min_rps,
                                     .waiting_p99_ms, .receiving_p99_ms, .connect_p99_ms, .tls_p99_ms]

    /// Parses `NAME=VALUE` or `REQUEST:NAME=VALUE`.
    /// - Throws: `ConfigError` (setting `thresholds`) naming the valid names or the bad value.
    public init(parsing text: String) throws(ConfigError) {
        let parts = text.split(separator: "=", maxSplits: 1)
        let names = Name.allCases.map(\.rawValue).joined(separator: ", ")
        var key = parts.first.map { String($0).trimmingSpaces() } ?? ""
        var scope: String?
        if let colon = key.lastIndex(of: ":") {
            scope = String(key[..<colon]).trimmingSpaces()
            key = String(key[key.index(after: colon)...]).trimmingSpaces()
        }
        guard parts.count == 2, let name = Name(rawValue: key) else {
            throw ConfigError(.thresholds, "expected NAME=VALUE or REQUEST:NAME=VALUE with NAME one of \(names), got '\(text)'")
        }
        if let scope {
            guard !scope.isEmpty else { throw ConfigError(.thresholds, "'\(text)': the request name before ':' is empty") }
            guard Self.perName.contains(name) else {
                throw ConfigError(.thresholds, "'\(text)': \(name.rawValue) is a whole-test figure; per name: \(Self.perName.map(\.rawValue).sorted().joined(separator: ", "))")
            }
        }
        // `p99_ms=500,abort` or `p99_ms=500,abort-after=10s`.
        let options = parts[1].split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces() }
        guard let value = Double(options[0]), value.isFinite, value >= 0 else {
            throw ConfigError(.thresholds, "\(name.rawValue) needs a non-negative number, got '\(options[0])'")
        }
        var abort = false, delay = 0.0
        for option in options.dropFirst() {
            if option == "abort" {
                abort = true
            } else if option.hasPrefix("abort-after="), let s = seconds(fromDuration: String(option.dropFirst("abort-after=".count))), s >= 0 {
                abort = true
                delay = s
            } else {
                throw ConfigError(.thresholds, "'\(text)': after the limit, give ',abort' or ',abort-after=DURATION' (10s, 1m), got '\(option)'")
            }
        }
        if (name == .error_rate || name == .session_error_rate || name == .unsent_rate) && value > 1 {
            throw ConfigError(.thresholds, "\(name.rawValue) is a fraction in 0...1, got \(value)")
        }
        self.init(name: name, value: value, scope: scope)
        try setAbort(abort, afterS: delay)
    }

    /// Scoped thresholds must name a request of the list.
    /// - Throws: `ConfigError` (setting `thresholds`) naming the threshold and the known names.
    /// Thresholds checked against the load they judge: session figures need sessions, a name's
    /// scope needs that name among the requests.
    public static func check(_ thresholds: [Threshold], for spec: LoadSpec) throws(ConfigError) {
        try checkSessions(thresholds, order: spec.order)
        try checkScopes(thresholds, names: spec.requests.map(\.displayName))
        let seconds: Double? = switch spec.stop {
        case .duration(let s): s
        case .stages(let profile): profile.duration
        case .requests, .sessions: nil
        }
        if let seconds, let late = thresholds.first(where: { $0.abortOnFail && $0.delayAbortEvalS >= seconds }) {
            throw ConfigError(.thresholds, "\(late.key): delay_abort_eval_s \(late.delayAbortEvalS) is not before the test's end (\(seconds) s)")
        }
    }

    public static func checkScopes(_ thresholds: [Threshold], names: [String]) throws(ConfigError) {
        for t in thresholds {
            guard let scope = t.scope, !names.contains(scope) else { continue }
            throw ConfigError(.thresholds, "'\(t.key)': no request is named '\(scope)' (names: \(names.joined(separator: ", ")))")
        }
    }

    /// Session thresholds need sessions: a test whose order is not `sequence` has none to judge.
    /// - Throws: `ConfigError` (setting `thresholds`) naming the threshold.
    public static func checkSessions(_ thresholds: [Threshold], order: RequestOrder) throws(ConfigError) {
        guard order != .sequence, let t = thresholds.first(where: { $0.name.isSession }) else { return }
        throw ConfigError(.thresholds, "\(t.name.rawValue) judges sessions, and only order: sequence has sessions (each pass through the list is one)")
    }
}

/// Each threshold with the measured value and whether it held.
public struct ThresholdReport: Codable, Sendable {
    public struct Result: Codable, Sendable {
        public let name: String
        public let limit: Double
        public let actual: Double
        public let passed: Bool
        public init(name: String, limit: Double, actual: Double, passed: Bool) {
            self.name = name; self.limit = limit; self.actual = actual; self.passed = passed
        }
    }
    public var passed: Bool
    public var results: [Result]
    /// Session thresholds, judged when the sessions are known (`evaluateSessions`), and
    /// per-name ones, when the names are (`evaluateNames`).
    private var sessionLimits: [Threshold] = []
    private var nameLimits: [Threshold] = []
    /// Whole-test timing thresholds, judged when the timings are known (`evaluateTimings`).
    private var timingLimits: [Threshold] = []

    private enum CodingKeys: String, CodingKey { case passed, results }

    public init(evaluating thresholds: [Threshold], requests: Int, responses: Int, errors: ErrorCounts,
                rps: Double, latency: LatencySummary, unsent: Int = 0) {
        sessionLimits = thresholds.filter(\.name.isSession)
        nameLimits = thresholds.filter { $0.scope != nil }
        timingLimits = thresholds.filter { $0.name.isTiming && $0.scope == nil }
        results = thresholds.filter { !$0.name.isSession && !$0.name.isTiming && $0.scope == nil }.map { t in
            let actual = t.name == .unsent_rate ? (requests + unsent > 0 ? Double(unsent) / Double(requests + unsent) : 0)
                : Self.measured(t.name, latency: latency, errors: errors, requests: requests, rps: rps)
            return Self.result(t, actual)
        }
        passed = results.allSatisfy(\.passed)
    }

    /// A latency, error-rate or rate threshold's figure: the whole test's or one name's.
    private static func measured(_ name: Threshold.Name, latency l: LatencySummary, errors: ErrorCounts, requests: Int, rps: Double) -> Double {
        switch name {
        case .p50_ms: return Double(l.p50) / 1000
        case .p90_ms: return Double(l.p90) / 1000
        case .p99_ms: return Double(l.p99) / 1000
        case .p999_ms: return Double(l.p999) / 1000
        case .max_ms: return Double(l.max) / 1000
        case .error_rate: return errors.rate(per: requests)
        case .min_rps: return rps
        case .unsent_rate, .session_p99_ms, .session_error_rate, .waiting_p99_ms, .receiving_p99_ms, .connect_p99_ms, .tls_p99_ms:
            preconditionFailure("\(name.rawValue) is judged where its figure is known")
        }
    }

    /// A timing threshold's figure: the phase's p99 in ms (0 when nothing was measured: no TLS
    /// handshake in a plain-HTTP test passes any `tls_p99_ms`).
    private static func timing(_ name: Threshold.Name, of figures: some TimingFields) -> Double {
        let phase: LatencySummary? = switch name {
        case .connect_p99_ms: figures.connect_us
        case .tls_p99_ms: figures.tls_us
        case .waiting_p99_ms: figures.waiting_us
        default: figures.receiving_us
        }
        return Double(phase?.p99 ?? 0) / 1000
    }

    /// Judges the whole-test timing thresholds against the report's timings.
    public mutating func evaluateTimings(_ r: LoadReport) {
        for t in timingLimits {
            results.removeAll { $0.name == t.key }
            results.append(Self.result(t, Self.timing(t.name, of: r)))
        }
        passed = results.allSatisfy(\.passed)
    }

    private static func result(_ t: Threshold, _ actual: Double) -> Result {
        Result(name: t.key, limit: t.value, actual: actual, passed: t.name == .min_rps ? actual >= t.value : actual <= t.value)
    }

    /// Judges the session thresholds against the run's sessions.
    public mutating func evaluateSessions(_ sessions: SessionReport) {
        for t in sessionLimits {
            let actual = t.name == .session_p99_ms ? Double(sessions.duration_us?.p99 ?? 0) / 1000 : sessions.error_rate
            results.removeAll { $0.name == t.key }
            results.append(Self.result(t, actual))
        }
        passed = results.allSatisfy(\.passed)
    }

    /// Judges the per-name thresholds against `by_name` (a name with no figures fails its limits).
    public mutating func evaluateNames(_ byName: [String: NameReport], duration: Double) {
        for t in nameLimits {
            results.removeAll { $0.name == t.key }
            guard let scope = t.scope, let n = byName[scope] else {
                results.append(Result(name: t.key, limit: t.value, actual: 0, passed: false))
                continue
            }
            let rps = duration > 0 ? Double(n.responses) / duration : 0
            let actual = t.name.isTiming ? Self.timing(t.name, of: n)
                : Self.measured(t.name, latency: n.latency_us, errors: n.errors, requests: n.requests, rps: rps)
            results.append(Self.result(t, actual))
        }
        passed = results.allSatisfy(\.passed)
    }
}
