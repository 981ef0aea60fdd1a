/// Two reports side by side (`stampede compare BASE NEW`): each figure's change in percent, and
/// which allowed regressions (`--max-regression p99=10%`) were exceeded.
public struct ReportComparison: Sendable, Codable {
    /// The figures compared, as `--max-regression` names them.
    public enum Metric: String, Sendable, Codable, CaseIterable {
        case rps, error_rate, p50, p90, p99, p999, max

        /// A rise is worse (latency, errors); for rps a fall is.
        var higherIsWorse: Bool { self != .rps }
    }

    public struct Row: Sendable, Codable, Equatable {
        public let metric: String
        /// A scenario (a test of several), or nil for the whole test.
        public var scenario: String?
        /// A name of the workload, or nil for the whole test (or scenario).
        public let name: String?
        public let base: Double
        public let new: Double
        /// (new − base) / base in %; nil when base is 0 and new is not (an infinite change).
        public let change_pct: Double?
        /// The allowed regression, if one was given for this metric.
        public let limit_pct: Double?
        public let regressed: Bool

        /// How it is written, as `--max-regression` names it: `p99`, `checkout:p99`, `buy/p99`,
        /// `buy/checkout:p99`.
        public var label: String { (scenario.map { "\($0)/" } ?? "") + (name.map { "\($0):" } ?? "") + metric }

        /// A value of this row with its unit, the one way the CLI and the HTML page write it:
        /// latencies in ms, rps in requests/s, the error rate in %.
        public func display(_ v: Double) -> String {
            switch metric {
            case "error_rate": return String(format: "%.3f%%", v * 100)
            case "rps": return String(format: "%.1f req/s", v)
            default: return String(format: "%.3f ms", v)
            }
        }
    }

    public let rows: [Row]
    public var passed: Bool { !rows.contains(where: \.regressed) }
    public var regressions: [Row] { rows.filter(\.regressed) }

    /// An allowed regression: of the whole test, of one name (`checkout:p99=10%`), of one
    /// scenario (`buy/p99=10%`) or of one name in it (`buy/checkout:p99=10%`).
    public struct Limit: Sendable, Equatable {
        public var scenario: String?
        public let name: String?
        public let metric: Metric
        public let percent: Double
    }

    /// Parses `NAME=P%` or `REQUEST:NAME=P%` (the % is optional).
    /// - Throws: `ConfigError` naming the metric names, or the bad percentage.
    public static func limit(parsing text: String) throws(ConfigError) -> Limit {
        var text = text
        var scenario: String?
        if let slash = text.firstIndex(of: "/"), let eq = text.firstIndex(of: "="), slash < eq {
            scenario = String(text[..<slash])
            text = String(text[text.index(after: slash)...])
            guard !(scenario ?? "").isEmpty else { throw ConfigError(.thresholds, "'/\(text)': the scenario's name before '/' is empty") }
        }
        var limit = try unscopedLimit(parsing: text)
        limit.scenario = scenario
        return limit
    }

    private static func unscopedLimit(parsing text: String) throws(ConfigError) -> Limit {
        let parts = text.split(separator: "=", maxSplits: 1)
        let names = Metric.allCases.map(\.rawValue).joined(separator: ", ")
        var key = parts.first.map(String.init) ?? ""
        var scope: String?
        if let colon = key.lastIndex(of: ":") {
            scope = String(key[..<colon])
            key = String(key[key.index(after: colon)...])
        }
        guard parts.count == 2, let metric = Metric(rawValue: key), scope.map({ !$0.isEmpty }) ?? true else {
            throw ConfigError(.thresholds, "expected NAME=P% or REQUEST:NAME=P% with NAME one of \(names), got '\(text)'")
        }
        let number = parts[1].hasSuffix("%") ? parts[1].dropLast() : parts[1]
        guard let p = Double(number), p.isFinite, p >= 0 else {
            throw ConfigError(.thresholds, "\(metric.rawValue) needs a percentage >= 0 such as 10%, got '\(parts[1])'")
        }
        return Limit(name: scope, metric: metric, percent: p)
    }

    /// A limit for a name must name one both reports have.
    /// - Throws: `ConfigError` naming the limit and the names the reports share.
    public static func checkNames(_ limits: [Limit], base: LoadReport, new: LoadReport) throws(ConfigError) {
        try checkNames(limits, base: ComparedFigures(base), new: ComparedFigures(new))
    }

    public static func checkNames(_ limits: [Limit], base: ComparedFigures, new: ComparedFigures) throws(ConfigError) {
        let scenarios = Set(base.scenarios.keys).intersection(new.scenarios.keys)
        for l in limits {
            guard let scenario = l.scenario else { continue }
            guard scenarios.contains(scenario) else {
                throw ConfigError(.thresholds, "'\(scenario)/...': '\(scenario)' is not a scenario of both reports (shared: \(scenarios.sorted().joined(separator: ", ")))")
            }
            let names = Set(base.scenarios[scenario]!.byName.keys).intersection(new.scenarios[scenario]!.byName.keys)
            if let name = l.name, !names.contains(name) {
                throw ConfigError(.thresholds, "'\(scenario)/\(name):\(l.metric.rawValue)': '\(name)' is not a name of scenario \(scenario) in both reports (shared: \(names.sorted().joined(separator: ", ")))")
            }
        }
        let shared = Set(base.byName.keys).intersection(new.byName.keys)
        for l in limits where l.scenario == nil {
            guard let name = l.name, !shared.contains(name) else { continue }
            throw ConfigError(.thresholds, "'\(name):\(l.metric.rawValue)': '\(name)' is not a name of both reports (shared: \(shared.sorted().joined(separator: ", ")))")
        }
    }

    public init(base: LoadReport, new: LoadReport, limits: [Limit]) {
        self.init(base: ComparedFigures(base), new: ComparedFigures(new), limits: limits)
    }

    /// Figures against figures (a report's, or the median of a named test's last runs).
    public init(base: ComparedFigures, new: ComparedFigures, limits: [Limit]) {
        struct Key: Hashable { let scenario: String?; let name: String?; let metric: Metric }
        let allowed = Dictionary(limits.map { (Key(scenario: $0.scenario, name: $0.name, metric: $0.metric), $0.percent) }, uniquingKeysWith: { _, b in b })
        var scenario: String?
        func rows(_ name: String?, _ b: [Metric: Double], _ n: [Metric: Double]) -> [Row] {
            Metric.allCases.compactMap { m in
                guard let bv = b[m], let nv = n[m] else { return nil }
                let change: Double? = bv == 0 ? (nv == 0 ? 0 : nil) : (nv - bv) / bv * 100
                let worse = m.higherIsWorse ? (change ?? .infinity) : -(change ?? -.infinity)
                let limit = allowed[Key(scenario: scenario, name: name, metric: m)]
                var row = Row(metric: m.rawValue, name: name, base: bv, new: nv, change_pct: change.map { ($0 * 10).rounded() / 10 },
                              limit_pct: limit, regressed: limit.map { worse > $0 } ?? false)
                row.scenario = scenario
                return row
            }
        }
        func rows(of base: ComparedFigures, _ new: ComparedFigures) -> [Row] {
            var all = rows(nil, base.whole, new.whole)
            for name in Set(base.byName.keys).intersection(new.byName.keys).sorted() {
                all += rows(name, base.byName[name]!, new.byName[name]!)
            }
            return all
        }
        var all = rows(of: base, new)
        // Scenario by scenario: each one both have.
        for name in Set(base.scenarios.keys).intersection(new.scenarios.keys).sorted() {
            scenario = name
            all += rows(of: base.scenarios[name]!, new.scenarios[name]!)
        }
        self.rows = all
    }

    static func figures(_ r: LoadReport) -> [Metric: Double] {
        latency(r.latency_us).merging([.rps: r.rps, .error_rate: r.errors.rate(per: r.requests)]) { a, _ in a }
    }

    static func figures(_ n: NameReport, duration: Double) -> [Metric: Double] {
        latency(n.latency_us).merging([.rps: duration > 0 ? Double(n.responses) / duration : 0,
                                       .error_rate: n.errors.rate(per: n.requests)]) { a, _ in a }
    }

    static func latency(_ l: LatencySummary) -> [Metric: Double] {
        [.p50: Double(l.p50) / 1000, .p90: Double(l.p90) / 1000, .p99: Double(l.p99) / 1000, .p999: Double(l.p999) / 1000, .max: Double(l.max) / 1000]
    }
}
