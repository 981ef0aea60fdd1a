/// Capacity search: open-model (tsunami) steps at rising rates until an SLO breaks, then
/// bisection between the last rate that held and the first that broke, to within `precision`.
/// The answer is the highest tested rate at which every SLO held.
public struct CapacitySearch: Sendable {
    public static let defaultStartRate = 100.0
    public static let defaultMaxRate = 1_000_000.0
    public static let defaultStepS = 5.0
    public static let growth = 2.0
    public static let precision = 0.05
    /// A step passes only if it sent at least this share of its rate.
    public static let reachedShare = 0.95

    public let slo: [Threshold]
    public let startRate: Double
    public let maxRate: Double
    public let stepS: Double
    public private(set) var steps: [SearchStep] = []
    private var lastPass: Double?
    private var firstFail: Double?

    /// - Throws: `ConfigError` for an SLO that is not a latency percentile or an error rate, or
    ///   rates and steps out of range.
    public init(slo: [Threshold], startRate: Double = defaultStartRate, maxRate: Double = defaultMaxRate,
                stepS: Double = defaultStepS) throws(ConfigError) {
        guard !slo.isEmpty else { throw ConfigError(.slo, "give at least one SLO, e.g. p99_ms=50 or error_rate=0.01") }
        if let bad = slo.first(where: { $0.name == .min_rps }) {
            throw ConfigError(.slo, "\(bad.name.rawValue) is what the search finds; SLOs are p50_ms, p90_ms, p99_ms, p999_ms, max_ms, error_rate")
        }
        guard startRate.isFinite, startRate > 0, startRate <= LoadSpec.maxRate else {
            throw ConfigError(.startRate, "must be in (0, 10000000] requests/s, got \(startRate)")
        }
        guard maxRate.isFinite, maxRate >= startRate, maxRate <= LoadSpec.maxRate else {
            throw ConfigError(.maxRate, "must be in [start rate \(startRate), 10000000] requests/s, got \(maxRate)")
        }
        guard stepS.isFinite, stepS >= 1, stepS <= 3_600 else { throw ConfigError(.stepS, "must be 1...3600 seconds, got \(stepS)") }
        self.slo = slo
        self.startRate = startRate
        self.maxRate = maxRate
        self.stepS = stepS
    }

    /// The rate of the first step.
    public var firstRate: Double { startRate }

    /// The highest rate at which every SLO held (nil: none did).
    public var maxPassingRate: Double? { lastPass }

    /// Records a step and returns the next rate to try, or nil when the search is done.
    public mutating func record(_ step: SearchStep) -> Double? {
        steps.append(step)
        if step.passed { lastPass = Swift.max(lastPass ?? 0, step.rate) } else { firstFail = Swift.min(firstFail ?? .infinity, step.rate) }
        guard let pass = lastPass else { return nil }  // the lowest rate already broke an SLO
        guard let fail = firstFail else {
            // Still climbing: double, up to the ceiling.
            return pass >= maxRate ? nil : Swift.min(pass * Self.growth, maxRate)
        }
        guard (fail - pass) / pass > Self.precision else { return nil }
        return ((pass + fail) / 2).rounded()
    }

    /// Judges one step from its report: every SLO held and the rate was reached.
    /// - Parameter busiest: the load generator's busiest reactor thread, CPU time over wall time.
    /// - Parameter pacesSessions: the rate is sessions per second (`session_rate`): achieved is
    ///   sessions started per second, and an arrival dropped for want of a connection misses it.
    public func step(rate: Double, report: LoadReport, connections: Int, busiest: Double, pacesSessions: Bool = false) -> SearchStep {
        var slo = ThresholdReport(evaluating: slo, requests: report.requests, responses: report.responses,
                                  errors: report.errors, rps: report.rps, latency: report.latency_us)
        if let sessions = report.sessions { slo.evaluateSessions(sessions) }
        // Sessions arrive over the step's seconds (the tail of their last responses is not a second of arrivals).
        let sessionsPerSecond = report.sessions.map { Double($0.started) / stepS }
        let achieved = pacesSessions ? ((sessionsPerSecond ?? 0) * 10).rounded() / 10 : report.rps
        let reached = achieved >= Self.reachedShare * rate
        var note: String?
        if !reached {
            // Whose limit: a reactor thread busy all the time is the load generator's ceiling;
            // otherwise the server's answers were too slow for the connections to carry the rate.
            let sent = pacesSessions ? "started \(Int(achieved)) of \(Int(rate)) sessions/s (\(report.sessions?.dropped ?? 0) dropped)"
                : "sent \(Int(achieved)) of \(Int(rate)) req/s"
            let serviceUs = report.service_time_us?.mean ?? report.latency_us.mean
            if busiest >= 0.9 {
                note = "\(sent): the load generator's ceiling, not the server's (a reactor thread was \(Int(busiest * 100))% busy: add threads or drivers)"
            } else if serviceUs > 0 {
                let carry = Double(connections) * 1e6 / serviceUs
                note = "\(sent): at \(formatMs(serviceUs)) per response, \(connections) connections carry about \(Int(carry)) req/s (the server is slower, or add connections)"
            } else {
                // Nothing came back (e.g. every connect refused): no service time to reason from.
                note = "\(sent): no response came back (\(report.errors.total) errors)"
            }
        }
        let errorRate = report.errors.rate(per: report.requests)
        return SearchStep(rate: rate, achieved_rps: achieved, p99_ms: Double(report.latency_us.p99) / 1000,
                          error_rate: (errorRate * 10_000).rounded() / 10_000, passed: slo.passed && reached,
                          responses: report.responses, failed: slo.results.filter { !$0.passed }.map(\.name), note: note)
    }

    /// The report's `search` object.
    public var report: SearchReport {
        SearchReport(max_rate: lastPass, steps: steps,
                     slo: Dictionary(slo.map { ($0.name.rawValue, $0.value) }, uniquingKeysWith: { _, b in b }),
                     note: note)
    }

    /// Why the answer is what it is, when that needs saying.
    private var note: String? {
        guard let lastPass else {
            if !steps.isEmpty && steps.allSatisfy({ $0.responses == 0 }) {
                return "no tested rate passed: no response came back at any rate (is the target up?)"
            }
            return "no tested rate passed: the lowest, \(Int(steps.first?.rate ?? startRate)) req/s, already broke the SLO (try a lower --start-rate)"
        }
        return lastPass >= maxRate ? "every rate up to --max-rate \(Int(maxRate)) passed: the capacity is higher" : nil
    }
}

/// One step of a capacity search.
public struct SearchStep: Codable, Sendable, Equatable {
    public var rate: Double
    public var achieved_rps: Double
    public var p99_ms: Double
    public var error_rate: Double
    public var passed: Bool
    /// Responses the step measured (its figures rest on these).
    public var responses: Int
    /// The SLOs that broke.
    public var failed: [String]
    /// Why the rate was not reached, when it was not.
    public var note: String?
}

/// `search` in the report.
public struct SearchReport: Codable, Sendable, Equatable {
    /// The highest rate at which every SLO held; null when none did.
    public var max_rate: Double?
    public var steps: [SearchStep]
    public var slo: [String: Double]
    public var note: String?

    private enum CodingKeys: String, CodingKey { case max_rate, steps, slo, note }

    /// `max_rate` is written as null when no rate held (absent would read as "not a search").
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(max_rate, forKey: .max_rate)
        try c.encode(steps, forKey: .steps)
        try c.encode(slo, forKey: .slo)
        try c.encodeIfPresent(note, forKey: .note)
    }
}

private func formatMs(_ us: Double) -> String { us < 1000 ? "\(Int(us)) µs" : "\((us / 100).rounded() / 10) ms" }
