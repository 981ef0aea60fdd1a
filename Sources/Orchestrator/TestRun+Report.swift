import Foundation
import Histogram
import StampedeModel
import StampedeWire

/// A test's report, built from what its run holds (read only: nothing here changes the run).
extension TestRun {
    /// The merged report, with the merged latency histogram it was computed from: from the finals
    /// (and a failed driver's reported intervals) when complete, from the intervals so far while running.
    /// `nowMs`: the wall clock, for the duration of a test still running.
    func buildReport(nowMs: Int64) throws -> (report: LoadReport, latency: HDRHistogram) {
        var total = Figures(serviceTime: definition.mode == .tsunami ? HDRHistogram() : nil)
        let start: Date
        var duration: Double
        let finished = pending.isEmpty && !finals.isEmpty
        if finished {
            let used = finals.keys.sorted().map { finals[$0]! }
            for f in used { try total.add(try f.decodedFigures(serviceTime: f.serviceHistogram)) }
            // What failed drivers reported before they went silent is measured, and stays.
            for (share, r) in reported.sorted(by: { $0.key < $1.key }) where failedDrivers.contains(share.driver) && finals[share] == nil {
                try total.add(try r.decoded)
            }
            let begin = used.map { Double($0.startedAtMs) / 1000 }.min() ?? Double(startAtMs) / 1000
            let end = used.map { Double($0.startedAtMs) / 1000 + $0.durationS }.max() ?? begin
            start = Date(timeIntervalSince1970: begin)
            duration = end - begin
        } else {
            // Live figures: from each share's intervals so far (their latency summed as it came).
            total.latency = latencySoFar
            for (_, r) in reported.sorted(by: { $0.key < $1.key }) { try total.add(try r.decoded, includingLatency: false) }
            start = Date(timeIntervalSince1970: Double(startAtMs) / 1000)
            duration = Swift.max(0, Double(nowMs - startAtMs) / 1000)
        }
        let counters = total.counters
        let latency = total.latency
        let byName = total.byName.sortedByName
        duration = Swift.max(duration, 0)
        let target = definition.load.listForm ? definition.target.origin : definition.target.description
        var report = LoadReport(testID: id, mode: definition.mode, target: target, startedAt: start,
                                duration: duration, drivers: assigned, counters: counters, latency: latency, serviceTime: total.serviceTime,
                                partial: !failedDrivers.isEmpty || error != nil, failedDrivers: failedDrivers.sorted(),
                                thresholds: definition.thresholds)
        report.error = error
        if let aborted { report.markAborted(aborted) }
        if stoppedAtMs != nil || finals.values.contains(where: \.interrupted) { report.interrupted = true }
        report.first_error = finals.sorted { $0.key < $1.key }.lazy.compactMap(\.value.firstError).first
        report.first_check_failure = finals.sorted { $0.key < $1.key }.lazy.compactMap(\.value.firstCheckFailure).first
        report.redistributed = redistributed.isEmpty ? nil : redistributed
        setSteering(&report)
        setDistribution(&report)
        report.setByName(byName)
        report.setTimings(total.timings)
        if definition.load.schedulesRequests && finished && !definition.hasScenarios {
            // Each part's seconds count from its own start: placed on the test's clock.
            let perSecond = finals.sorted { $0.key < $1.key }.reduce(into: [Int]()) { sum, entry in
                let offset = Int((Double((shares[entry.key]?.startAtMs ?? startAtMs) - startAtMs) / 1000).rounded())
                sum = addedPerSecond(sum, Array(repeating: 0, count: Swift.max(0, offset)) + (entry.value.unsentPerSecond ?? []))
            }
            report.setIntended(counters, perSecond: perSecond)
        }
        if definition.load.order == .sequence || (definition.hasScenarios && total.sessions != nil) {
            report.setSessions(counters.sessions, histograms: total.sessions ?? SessionHistograms(), byName: byName,
                               onlyStep: definition.load.requests[0].displayName)
        }
        report.seed = definition.load.seed
        report.name = definition.name
        report.search = search?.report
        if finished {
            try setConnectPhase(&report)
            report.connections = definition.load.connections * assigned.count
            // Each driver's own share (handed-over parts run after it, on the same connections' budget).
            report.sockets = finals.filter { $0.key.part == 1 }.values.compactMap(\.sockets).reduce(0, +)
        }
        try setScenarios(&report, start: start, finished: finished, elapsedS: duration)
        return (report, latency)
    }

    /// The drivers' connect phases merged: connect times exact (histograms added), the slowest
    /// driver's phase and lateness, failed first connects summed.
    private func setConnectPhase(_ report: inout LoadReport) throws {
        let phases = finals.values.filter { $0.connectPhaseS != nil }
        guard !phases.isEmpty else { return }
        var time = HDRHistogram()
        for f in phases { if let h = f.connectHistogram { try time.add(try SparseCounts(base64: h)) } }
        report.setConnectPhase(connectTime: time, seconds: phases.compactMap(\.connectPhaseS).max() ?? 0,
                               errors: phases.compactMap(\.connectPhaseErrors).reduce(0, +),
                               lateSeconds: phases.compactMap(\.connectLateS).max() ?? 0)
    }

    /// What arrived for a second already announced joins the judged figures (the report's
    /// per-second histograms hold it too).
    func judgeLate(_ figures: DecodedFigures, byScenario: [String: DecodedFigures]) throws {
        var whole = Figures()
        try whole.add(figures)
        try LiveVerdict.accumulate(whole, into: &judged, for: definition.thresholds, includingLatency: true)
        for (name, f) in byScenario {
            var one = Figures()
            try one.add(f)
            try judgeScenario(name, one)
        }
    }

    /// A scenario's announced second (or what arrived late for one) joins its judged figures.
    func judgeScenario(_ name: String, _ figures: Figures) throws {
        guard let scenario = definition.scenarios.first(where: { $0.name == name }), !scenario.thresholds.isEmpty else { return }
        try LiveVerdict.accumulate(figures, into: &judgedByScenario[name, default: Figures()], for: scenario.thresholds, includingLatency: true)
    }

    /// Start skew across drivers: how late each started after `start_at_ms`, from their own shares' finals.
    var startLags: [String: Double] {
        var lags: [String: Double] = [:]
        for (share, f) in finals where share.part == 1 { lags[share.driver] = f.startLagMs }
        return lags
    }

    /// The thresholds judged on everything reported so far (`elapsedS` seconds of the test),
    /// and the first with `abort_on_fail` that fails; nil when the test has no thresholds.
    func liveVerdict(elapsedS: Double) throws -> LiveVerdict? {
        let thresholds = definition.thresholds
        let judged = definition.hasScenarios ? definition.scenarios.filter { !$0.thresholds.isEmpty } : []
        guard !thresholds.isEmpty || !judged.isEmpty else { return nil }
        var verdict = LiveVerdict.empty
        if !thresholds.isEmpty {
            verdict = LiveVerdict(thresholds: thresholds, figures: self.judged, elapsedS: elapsedS, mode: definition.mode,
                                  order: definition.load.order, firstStepName: definition.load.requests[0].displayName)
        }
        // Each scenario's thresholds on its own seconds so far, from every driver running it.
        for scenario in judged {
            let figures = judgedByScenario[scenario.name] ?? Figures()
            if let theirs = LiveVerdict.judge(scenario, figures: figures, elapsedS: elapsedS) { verdict.add(scenario: scenario.name, theirs) }
        }
        return verdict
    }
}
