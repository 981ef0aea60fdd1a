import Foundation
import Histogram

/// A threshold as judged while the test runs: on the whole test so far, each second.
public struct ThresholdState: Codable, Sendable, Equatable {
    /// As written: `p99_ms`, `checkout:p99_ms`.
    public var name: String
    /// `ok` or `failing`.
    public var state: String
    public var value: Double
    public var limit: Double

    public init(_ r: ThresholdReport.Result) {
        name = r.name
        state = r.passed ? "ok" : "failing"
        value = (r.actual * 1000).rounded() / 1000
        limit = r.limit
    }
}

/// Why a test was stopped by a threshold (`abort_on_fail`): which one, in which scenario, at
/// which second, and what it measured.
public struct AbortReport: Codable, Sendable, Equatable {
    public var threshold: String
    public var scenario: String
    public var at_s: Double
    public var value: Double
    public var limit: Double

    public init(threshold: String, scenario: String = "default", atS: Double, value: Double, limit: Double) {
        self.threshold = threshold; self.scenario = scenario; at_s = atS; self.value = value; self.limit = limit
    }

    /// The summary's last line (a scenario's threshold named `SCENARIO/NAME`).
    public var sentence: String {
        let name = scenario == Scenario.defaultName ? threshold : "\(scenario)/\(threshold)"
        return "Aborted at \(Int(at_s)) s: \(name) was \(value), limit \(limit) (abort_on_fail)"
    }
}

extension LoadReport {
    /// A threshold stopped the test: said under `aborted`, and the report is partial.
    public mutating func markAborted(_ abort: AbortReport) {
        aborted = abort
        partial = true
    }
}

/// The thresholds judged on the figures so far, exactly as at the end (the same report rules
/// on the merged histograms), and the first one that stops the test, if any.
public struct LiveVerdict: Sendable {
    public private(set) var report: ThresholdReport
    public private(set) var abort: AbortReport?

    public var states: [ThresholdState] { report.results.map(ThresholdState.init) }

    /// Adds `part` into `total` as far as `thresholds` judge it: the counters always, per-name
    /// figures and sessions only when a threshold needs them (a 1,000-name test with a p99 limit
    /// merges no names each second), the latency when `includingLatency`.
    public static func accumulate(_ part: Figures, into total: inout Figures, for thresholds: [Threshold],
                                  includingLatency: Bool) throws {
        let needsNames = thresholds.contains { $0.scope != nil }
        let needsSessions = thresholds.contains(where: \.name.isSession)
        let needsTimings = thresholds.contains { $0.name.isTiming && $0.scope == nil }
        guard needsNames || needsSessions else {
            total.counters = try total.counters.adding(part.counters)
            if includingLatency { try total.latency.add(part.latency) }
            if needsTimings { try total.timings.add(part.timings) }
            return
        }
        var part = part
        if !needsNames { part.byName = FiguresByName() }
        if !needsSessions { part.sessions = nil }
        if !needsTimings { part.timings = Timings() }
        try total.add(part, includingLatency: includingLatency)
    }

    /// - Parameters:
    ///   - figures: the whole test so far, merged (per name and sessions where thresholds need them).
    ///   - elapsedS: seconds of the test so far (rates are per second of it).
    public init(thresholds: [Threshold], figures: Figures, elapsedS: Double, mode: LoadMode, order: RequestOrder,
                firstStepName: String) {
        var report = LoadReport(testID: "live", mode: mode, target: "", startedAt: Date(timeIntervalSince1970: 0),
                                duration: Swift.max(elapsedS, 0.001), drivers: [], counters: figures.counters, latency: figures.latency,
                                serviceTime: nil, thresholds: thresholds)
        if thresholds.contains(where: { $0.scope != nil }) { report.setByName(figures.byName.sortedByName) }
        if thresholds.contains(where: { $0.name.isTiming && $0.scope == nil }) { report.setTimings(figures.timings) }
        if thresholds.contains(where: \.name.isSession), order == .sequence {
            report.setSessions(figures.counters.sessions, histograms: figures.sessions ?? SessionHistograms(),
                               byName: figures.byName.sortedByName, onlyStep: firstStepName)
        }
        self.report = report.thresholds
        var abort: AbortReport?
        for t in thresholds where t.abortOnFail && elapsedS >= t.delayAbortEvalS {
            guard let r = report.thresholds.results.first(where: { $0.name == t.key }), !r.passed else { continue }
            abort = AbortReport(threshold: t.key, atS: elapsedS, value: (r.actual * 1000).rounded() / 1000, limit: r.limit)
            break
        }
        self.abort = abort
    }

    /// A scenario's verdict joins the test's: its states named `SCENARIO/NAME`, its abort (when
    /// the test's own has none) naming the scenario.
    public mutating func add(scenario: String, _ verdict: LiveVerdict) {
        for r in verdict.report.results {
            report.results.append(ThresholdReport.Result(name: "\(scenario)/\(r.name)", limit: r.limit, actual: r.actual, passed: r.passed))
        }
        report.passed = report.results.allSatisfy(\.passed)
        if abort == nil, var theirs = verdict.abort {
            theirs.scenario = scenario
            abort = theirs
        }
    }

    /// A test's verdict before any of its own thresholds: none, nothing failing.
    public static var empty: LiveVerdict {
        LiveVerdict(thresholds: [], figures: Figures(), elapsedS: 0, mode: .avalanche, order: .random, firstStepName: "")
    }

    /// A scenario's thresholds judged on its figures so far, `elapsedS` seconds into the test
    /// (nil before it begins: nothing of it to judge).
    public static func judge(_ scenario: Scenario, figures: Figures, elapsedS: Double) -> LiveVerdict? {
        let own = elapsedS - scenario.startAfterS
        guard !scenario.thresholds.isEmpty, own > 0 else { return nil }
        return LiveVerdict(thresholds: scenario.thresholds, figures: figures, elapsedS: own, mode: scenario.load.mode,
                           order: scenario.load.order, firstStepName: scenario.load.requests[0].displayName)
    }
}
