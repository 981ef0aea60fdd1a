/// A named test's runs over time (`name` in a TestConfig: `checkout-nightly`): what each finished
/// run measured, in the few figures a trend is drawn from, and the median of the last runs as a
/// baseline (`stampede compare --history`).
public struct HistoryFigures: Codable, Sendable, Equatable {
    public var requests: Int
    public var rps: Double
    public var error_rate: Double
    public var p50_ms: Double
    public var p90_ms: Double
    public var p99_ms: Double

    public init(requests: Int, rps: Double, errorRate: Double, latency: LatencySummary) {
        self.init(requests: requests, rps: rps, errorRate: errorRate,
                  p50Ms: Double(latency.p50) / 1000, p90Ms: Double(latency.p90) / 1000, p99Ms: Double(latency.p99) / 1000)
    }

    public init(requests: Int, rps: Double, errorRate: Double, p50Ms: Double, p90Ms: Double, p99Ms: Double) {
        self.requests = requests; self.rps = rps; error_rate = errorRate
        p50_ms = p50Ms; p90_ms = p90Ms; p99_ms = p99Ms
    }

    /// As `compare` names them.
    var metrics: [ReportComparison.Metric: Double] {
        [.rps: rps, .error_rate: error_rate, .p50: p50_ms, .p90: p90_ms, .p99: p99_ms]
    }
}

/// One finished run of a named test.
public struct HistoryRun: Codable, Sendable, Equatable {
    public var test_id: String
    public var started_at: String
    public var duration_s: Double
    /// Every threshold held; `aborted`: a threshold stopped it; `partial`: a driver failed or it stopped early.
    public var passed: Bool
    public var aborted: Bool
    public var partial: Bool
    public var requests: Int
    public var rps: Double
    public var error_rate: Double
    public var p50_ms: Double
    public var p90_ms: Double
    public var p99_ms: Double
    public var scenarios: [String: HistoryFigures]?
    public var by_name: [String: HistoryFigures]?

    /// A finished run's entry (nil: the report has no `name`).
    public init?(_ r: LoadReport) {
        guard r.name != nil else { return nil }
        test_id = r.test_id
        started_at = r.started_at
        duration_s = r.duration_s
        passed = r.thresholds.passed && r.aborted == nil
        aborted = r.aborted != nil
        partial = r.partial
        let whole = Self.figures(r)
        requests = whole.requests; rps = whole.rps; error_rate = whole.error_rate
        p50_ms = whole.p50_ms; p90_ms = whole.p90_ms; p99_ms = whole.p99_ms
        scenarios = r.scenarios?.mapValues(Self.figures)
        by_name = r.by_name?.mapValues { n in
            HistoryFigures(requests: n.requests, rps: r.duration_s > 0 ? (Double(n.responses) / r.duration_s * 10).rounded() / 10 : 0,
                           errorRate: n.errors.rate(per: n.requests), latency: n.latency_us)
        }
    }

    static func figures(_ r: LoadReport) -> HistoryFigures {
        HistoryFigures(requests: r.requests, rps: r.rps, errorRate: r.errors.rate(per: r.requests), latency: r.latency_us)
    }

    /// The whole run's figures.
    public var figures: HistoryFigures {
        HistoryFigures(requests: requests, rps: rps, errorRate: error_rate, p50Ms: p50_ms, p90Ms: p90_ms, p99Ms: p99_ms)
    }

    /// Why `name` cannot name a test's family (nil: it can): 1-64 of `A-Z a-z 0-9 . _ -`.
    public static func problem(withName name: String) -> String? {
        guard (1...64).contains(name.utf8.count),
              name.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E })
        else { return "a test's name is 1-64 characters of A-Z a-z 0-9 . _ -, got '\(name)'" }
        return nil
    }
}

/// What `compare` judges: the whole test's figures, each name's, each scenario's.
public struct ComparedFigures: Sendable {
    public var whole: [ReportComparison.Metric: Double]
    public var byName: [String: [ReportComparison.Metric: Double]]
    public var scenarios: [String: ComparedFigures]

    public init(_ r: LoadReport) {
        whole = ReportComparison.figures(r)
        byName = (r.by_name ?? [:]).mapValues { ReportComparison.figures($0, duration: r.duration_s) }
        scenarios = (r.scenarios ?? [:]).mapValues(ComparedFigures.init)
    }

    init(whole: [ReportComparison.Metric: Double], byName: [String: [ReportComparison.Metric: Double]], scenarios: [String: ComparedFigures]) {
        self.whole = whole; self.byName = byName; self.scenarios = scenarios
    }

    /// The median of each figure over `runs` (a name or scenario: over the runs that have it).
    public init(median runs: [HistoryRun]) {
        func median(_ all: [HistoryFigures]) -> [ReportComparison.Metric: Double] {
            var out: [ReportComparison.Metric: Double] = [:]
            for metric in [ReportComparison.Metric.rps, .error_rate, .p50, .p90, .p99] {
                let values = all.compactMap { $0.metrics[metric] }.sorted()
                guard !values.isEmpty else { continue }
                let mid = values.count / 2
                out[metric] = values.count % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2
            }
            return out
        }
        func byName(_ lists: [[String: HistoryFigures]]) -> [String: [ReportComparison.Metric: Double]] {
            let names = Set(lists.flatMap(\.keys))
            return Dictionary(uniqueKeysWithValues: names.map { name in (name, median(lists.compactMap { $0[name] })) })
        }
        whole = median(runs.map(\.figures))
        self.byName = byName(runs.compactMap(\.by_name))
        let scenarioNames = Set(runs.flatMap { $0.scenarios?.keys.map { $0 } ?? [] })
        scenarios = Dictionary(uniqueKeysWithValues: scenarioNames.map { name in
            (name, ComparedFigures(whole: median(runs.compactMap { $0.scenarios?[name] }), byName: [:], scenarios: [:]))
        })
    }
}
