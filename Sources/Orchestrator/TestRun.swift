import Foundation
import Histogram
import StampedeModel
import StampedeWire

/// A test's life in the orchestrator: its definition, the drivers it went to, every interval merged
/// from their histograms (exact percentiles, never averaged), their final messages, the drivers
/// that failed on the way and where their unsent requests went.
final class TestRun {
    enum Status: String { case created, running, done, failed }

    let definition: TestConfig
    private(set) var status: Status = .created
    private(set) var assigned: [String] = []
    private(set) var startAtMs: Int64 = 0
    private(set) var shares: [Share: ShareWork] = [:]
    private(set) var finals: [Share: FinalMessage] = [:]
    /// Everything each share reported in its intervals so far: live figures, and a failed
    /// driver's reported intervals in the final report. Sparse: a share's few scattered values
    /// in dense histograms made a page resident each (see `SparseFigures`).
    private(set) var reported: [Share: SparseFigures] = [:]
    /// A test of named scenarios: the same, per scenario (by name).
    private(set) var reportedByScenario: [Share: [String: SparseFigures]] = [:]
    /// Seconds 1...t as announced (and what came late for them), as far as the thresholds judge
    /// them, and each scenario's: what the live verdict of second t judges (`liveVerdict`).
    var judged = Figures()
    var judgedByScenario: [String: Figures] = [:]
    /// Every share's reported latency summed: the live report's histogram, kept as messages
    /// arrive (a sparse add each) instead of merged from every share on each request for it.
    private var reportedLatency = HDRHistogram()
    /// Every latency reported in the test's intervals so far, all drivers merged: the live chart's.
    var latencySoFar: HDRHistogram { reportedLatency }
    private(set) var failedDrivers: Set<String> = []
    private(set) var redistributed: [Redistribution] = []
    /// Intervals still being merged (a full histogram each).
    private(set) var intervals: [Int: MergedInterval] = [:]
    /// Intervals already announced, kept compact (encoded) for `latency.hlog`: a long test would
    /// otherwise hold 184 KiB per interval.
    private(set) var compactIntervals: [Int: CompactInterval] = [:]
    /// Seconds announced and being encoded off the reactor thread (`secondEncoded` ends it).
    private(set) var encodingSeconds: [Int: EncodingSecond] = [:]
    /// Intervals already sent on /ws, and (while running) those events without their
    /// histograms, for the snapshot of a client that connects mid-test.
    private(set) var announced = 0
    private(set) var liveIntervals: [LiveEvent.IntervalEvent] = []
    private var seenIntervals: Set<String> = []
    private(set) var report: LoadReport?
    /// Why the test could not complete (it then ends `failed`, its report partial).
    private(set) var error: String?
    let createdAtMs: Int64
    /// Wall clock of the trigger (a restarted orchestrator reads the metrics topic from shortly before).
    private(set) var triggeredAtMs: Int64?
    /// The threshold that stopped the test, if one did.
    private(set) var aborted: AbortReport?
    /// When a stop was asked for (`POST /tests/{id}/stop`); nil: never.
    private(set) var stoppedAtMs: Int64?
    /// Changes to the running load, and its pauses (`TestRun+Steering`).
    var steering = Steering()
    /// Each driver's clock offset (ms, its clock minus the orchestrator's) when it was sent work:
    /// its start time was moved by it, and its reported times are read back with it.
    private(set) var clockOffsetsMs: [String: Double] = [:]
    /// Idle drivers the test did not use, and why (a clock too far off).
    private(set) var refusedDrivers: [String: String] = [:]
    /// Seconds announced on the feed before a driver's interval for them arrived, by driver.
    private(set) var lateSeconds: [String: [Int]] = [:]
    /// Requests failed drivers' finals say they sent beyond what they reported in time.
    private(set) var sentAfterFailure: [String: Int] = [:]
    private(set) var finalsAfterFailure: Set<Share> = []

    /// Its report is being built and written off the reactor thread, from a frozen copy
    /// (`frozenCopy`): nothing finishes it again meanwhile, and `adopt` takes the outcome back.
    var concluding = false
    /// The answer to `GET /tests/{id}` last built while it runs, with what it was built from.
    var liveDetail: LiveDetailCache?
    /// What the live report depends on, besides the clock: unchanged, a report built from it stands.
    var liveRevision: [Int64] {
        [Int64(seenIntervals.count), Int64(finals.count), Int64(failedDrivers.count), Int64(announced), Int64(steering.changes.count),
         Int64(steering.pauses.count), stoppedAtMs ?? -1, aborted == nil ? 0 : 1, error == nil ? 0 : 1, Int64(search?.steps.count ?? 0)]
    }

    /// `test_type: SEARCH`: the search so far, and the rate of its current step.
    private(set) var search: CapacitySearch?
    private(set) var searchRate = 0.0

    init(createdAtMs: Int64, definition: TestConfig) {
        self.definition = definition
        search = definition.search
        searchRate = definition.search?.firstRate ?? 0
        self.createdAtMs = createdAtMs
    }

    var id: String { definition.testID }

    // MARK: Events: the only ways a test's state changes

    /// Sent to `drivers` (each with its own share), starting at `startAtMs`; `refused`: idle
    /// drivers left out, and why.
    func triggered(drivers: [String], startAtMs: Int64, refused: [String: String], atMs: Int64) {
        assigned = drivers
        self.startAtMs = startAtMs
        for (index, d) in drivers.enumerated() {
            shares[Share(driver: d, part: 1)] = ShareWork(requests: definition.requestsPerDriver, startAtMs: startAtMs,
                                                          shard: index, shards: drivers.count, seqStart: 0)
        }
        refusedDrivers = refused
        triggeredAtMs = atMs
        status = .running
    }

    /// A threshold with `abort_on_fail` failed: the test stops as on a stop request, and its
    /// report says why. False when it was already stopping.
    func aborted(_ abort: AbortReport, atMs: Int64) -> Bool {
        guard stopRequested(atMs: atMs) else { return false }
        aborted = abort
        return true
    }

    /// A stop was asked for; false when one already was (it is on its way).
    func stopRequested(atMs: Int64) -> Bool {
        guard stoppedAtMs == nil else { return false }
        stoppedAtMs = atMs
        return true
    }

    /// Drivers were told a start moved by their clock offsets (ms): kept, the first per driver,
    /// for the report and for reading their times back.
    func usedClockOffsets(_ offsets: [String: Double]) {
        for (d, offset) in offsets where clockOffsetsMs[d] == nil { clockOffsetsMs[d] = (offset * 10).rounded() / 10 }
    }

    /// A further part went to a driver: a failed driver's unsent requests, or a search step.
    func sent(_ share: Share, _ work: ShareWork) {
        shares[share] = work
    }

    /// A failed driver's unsent requests were handed over (listed under `redistributed`).
    func handedOver(_ redistribution: Redistribution) {
        redistributed.append(redistribution)
    }

    /// A driver of the test went silent: the test completes from the others.
    func driverFailed(_ id: String) {
        failedDrivers.insert(id)
    }

    /// The test cannot complete as asked: why (it ends `failed`, its report partial).
    func failed(_ why: String) {
        error = why
    }

    /// A capacity search's step was judged; returns the next step's rate (nil: the search is over).
    func searchStepJudged(_ step: SearchStep) -> Double? {
        search?.record(step)
    }

    /// A search step at `rate` was sent to the drivers.
    func searchStepSent(rate: Double) {
        searchRate = rate
    }

    /// A restarted orchestrator's search goes on where it was: the steps judged before, and the
    /// rate now running.
    func resumeSearch(steps: [SearchStep]) {
        guard search != nil else { return }
        for step in steps { if let next = search!.record(step) { searchRate = next } }
    }

    /// An interval went out on /ws: kept without its histograms for the snapshot of a client that
    /// connects mid-test (only the newest keeps the spectrum so far).
    func announced(_ kept: LiveEvent.IntervalEvent) {
        if !liveIntervals.isEmpty { liveIntervals[liveIntervals.count - 1].spectrum = nil }
        liveIntervals.append(kept)
    }

    /// The test ends: its report is built from what arrived (a test that heard no final says
    /// why) and its status set. Returns the report and the merged latency it came from, for the
    /// files and the feed; a report that cannot be built throws, and the test has failed.
    func end(nowMs: Int64) throws -> (report: LoadReport, latency: HDRHistogram) {
        liveIntervals = []
        if finals.isEmpty && error == nil {
            // A failed test always says why (it said `error: null` when every driver died).
            let failed = failedDrivers.sorted()
            error = failed.isEmpty ? "no driver reported the end of its share"
                : "every driver of the test failed before reporting its end: \(failed.joined(separator: ", "))"
        }
        do {
            let built = try buildReport(nowMs: nowMs)
            report = built.report
            status = finals.isEmpty || error != nil ? .failed : .done
            return built
        } catch {
            status = .failed
            throw error
        }
    }

    /// A copy to build the report from on another thread: every stored value copied (shared
    /// copy-on-write until one side changes it), so the reactor's run and the copy never touch
    /// the same storage. A stored property added to `TestRun` is copied here too
    /// (TestRunTests compares a copy with its original, property by property).
    func frozenCopy() -> TestRun {
        let c = TestRun(createdAtMs: createdAtMs, definition: definition)
        c.status = status; c.assigned = assigned; c.startAtMs = startAtMs; c.shares = shares; c.finals = finals
        c.reported = reported; c.reportedByScenario = reportedByScenario; c.judged = judged; c.judgedByScenario = judgedByScenario
        c.reportedLatency = reportedLatency; c.failedDrivers = failedDrivers; c.redistributed = redistributed
        c.intervals = intervals; c.compactIntervals = compactIntervals; c.encodingSeconds = encodingSeconds; c.announced = announced; c.liveIntervals = liveIntervals
        c.seenIntervals = seenIntervals; c.report = report; c.error = error; c.triggeredAtMs = triggeredAtMs; c.aborted = aborted
        c.stoppedAtMs = stoppedAtMs; c.steering = steering; c.clockOffsetsMs = clockOffsetsMs; c.refusedDrivers = refusedDrivers
        c.lateSeconds = lateSeconds; c.sentAfterFailure = sentAfterFailure; c.finalsAfterFailure = finalsAfterFailure
        c.search = search; c.searchRate = searchRate; c.concluding = concluding; c.liveDetail = liveDetail
        return c
    }

    /// Takes back what `end` did to a frozen copy: the report, status and error. Returns true when
    /// a failed driver's final arrived meanwhile and the report was amended with it (to write again).
    func adopt(_ ended: Ended) -> Bool {
        concluding = false
        liveIntervals = []
        liveDetail = nil
        status = ended.status
        error = ended.error
        report = ended.report
        guard report != nil, !sentAfterFailure.isEmpty, report!.sent_after_failure != sentAfterFailure else { return false }
        report!.sent_after_failure = sentAfterFailure
        return true
    }

    /// Its report could not be written: the test failed.
    func notReported() {
        status = .failed
    }

    /// A test read back at start-up, as its state file and report left it.
    convenience init(restoring state: ReportStore.TestState, definition: TestConfig, report: LoadReport?) {
        self.init(createdAtMs: state.created_at_ms, definition: definition)
        status = Status(rawValue: state.status) ?? .failed
        assigned = state.drivers
        startAtMs = state.start_at_ms
        for share in state.shares {
            shares[Share(driver: share.driver, part: share.part)] = ShareWork(
                requests: share.requests, startAtMs: share.start_at_ms,
                shard: share.shard ?? state.drivers.firstIndex(of: share.driver) ?? 0, shards: share.shards ?? state.drivers.count,
                seqStart: share.seq_start ?? 0)
        }
        redistributed = state.redistributed
        triggeredAtMs = state.triggered_at_ms
        stoppedAtMs = state.stopped_at_ms
        if let steps = state.search_steps { resumeSearch(steps: steps) }
        failedDrivers = Set(state.failed_drivers)
        clockOffsetsMs = state.clock_offsets_ms ?? [:]
        refusedDrivers = state.refused_drivers ?? [:]
        error = state.error
        aborted = state.aborted
        self.report = report
    }

    /// `decoded`: its histograms, decoded already (on the metrics intake's thread); nil: here.
    func add(_ m: IntervalMessage, decoded: DecodedInterval? = nil) throws {
        let share = Share(driver: m.driverID, part: m.part ?? 1)
        // A failed driver's unsent requests were handed over when it failed: whatever it says
        // later would count twice.
        guard let work = shares[share], !failedDrivers.contains(m.driverID) else { return }
        // Decoded once, sparse: each addition below touches only the non-zero counters. All of
        // it is decoded and checked before anything is counted, so a bad message counts nowhere.
        let decoded = try decoded ?? DecodedInterval(m)
        guard seenIntervals.insert("\(m.driverID)/\(share.part)/\(m.t)").inserted else { return }  // a redelivered message counts once
        let figures = decoded.figures
        let histogram = figures.latency
        let byScenario = decoded.scenarios
        // A test's clock: a handed-over part's intervals count from its own start.
        let t = m.t + Int((Double(work.startAtMs - startAtMs) / 1000).rounded())
        // Sums checked before anything is counted: counts that do not fit refuse the message.
        try reported[share]?.checkAddable(figures)
        try intervals[t]?.figures.checkAddable(figures)
        try encodingSeconds[t]?.interval.figures.checkAddable(figures)
        for (name, f) in byScenario {
            try reportedByScenario[share]?[name]?.checkAddable(f)
            try intervals[t]?.scenarios[name]?.checkAddable(f)
            try encodingSeconds[t]?.interval.scenarios[name]?.checkAddable(f)
        }
        // In place: a copy would duplicate a whole histogram per message.
        try reported[share, default: SparseFigures()].add(figures)
        for (name, f) in byScenario { try reportedByScenario[share, default: [:]][name, default: SparseFigures()].add(f) }
        try reportedLatency.add(histogram)
        if encodingSeconds[t] != nil {
            // Announced, its encoding under way: added to the second, encoded again when it is back.
            try encodingSeconds[t]!.interval.figures.add(figures)
            for (name, f) in byScenario { try encodingSeconds[t]!.interval.scenarios[name, default: Figures()].add(f) }
            encodingSeconds[t]!.changed = true
            try judgeLate(figures, byScenario: byScenario)
            return
        }
        if var late = compactIntervals[t] {
            // A driver's interval that arrived after it was announced: fold it into the log.
            try late.fold(figures, byScenario: byScenario, errors: m.errors.total)
            compactIntervals[t] = late
            try judgeLate(figures, byScenario: byScenario)
            return
        }
        // Taken out while it changes: a copy left in the dictionary would make the addition
        // below copy the whole histogram.
        var s = intervals.removeValue(forKey: t) ?? MergedInterval()
        s.drivers.insert(m.driverID)
        try s.figures.add(figures)
        s.connections += m.connections ?? 0
        if let r = m.targetRate { s.targetRate = (s.targetRate ?? 0) + r }
        if let c = m.targetConnections { s.targetConnections = (s.targetConnections ?? 0) + c }
        for (name, f) in byScenario { try s.scenarios[name, default: Figures()].add(f) }
        for (name, share) in m.scenarios ?? [:] {
            if let r = share.targetRate { s.scenarioTargetRates[name, default: 0] += r }
        }
        intervals[t] = s
    }

    @discardableResult
    func add(_ m: FinalMessage) -> FinalOutcome {
        let share = Share(driver: m.driverID, part: m.part ?? 1)
        guard shares[share] != nil else { return .ignored }
        guard !failedDrivers.contains(m.driverID) else { return finalAfterFailure(m, share: share) }
        // A final read again after the test ended (a restart reads the topic back) adds nothing.
        guard status != .done && status != .failed else { return .ignored }
        var final = m
        // Its start on the orchestrator's clock: the report's times are all on one clock.
        if let offset = clockOffsetsMs[m.driverID] { final.startedAtMs -= Int64(offset.rounded()) }
        finals[share] = final
        return .counted
    }

    /// A failed driver came back and sent its final: its work was handed over when it failed, so
    /// nothing of it is counted, but what it sent beyond its reported seconds reached the target
    /// and the report says how much (once per share: a final delivered twice counts once).
    private func finalAfterFailure(_ m: FinalMessage, share: Share) -> FinalOutcome {
        guard finalsAfterFailure.insert(share).inserted else { return .ignored }
        let beyond = Swift.max(0, m.requests - (reported[share]?.counters.requests ?? 0))
        let before = sentAfterFailure[m.driverID]
        sentAfterFailure[m.driverID, default: 0] += beyond
        guard sentAfterFailure[m.driverID] != before else { return .ignored }
        // The test ended first: its report is amended, so the target's count can be checked.
        if status != .running, report != nil { report!.sent_after_failure = sentAfterFailure }
        return .sentAfterFailure(requests: sentAfterFailure[m.driverID]!, amended: status != .running ? report : nil)
    }

    /// Once its report and files are written, a test lets go of what only merging needed: every
    /// share's histograms (one per name each), the seconds kept for latency.hlog, the live events.
    /// What a late final from a failed driver is judged against (each share's reported counters)
    /// stays. A 1,000-name test held 50 MB until the orchestrator restarted.
    func releaseMeasurements() {
        reported = reported.mapValues { SparseFigures(counters: $0.counters) }
        reportedByScenario = [:]
        judged = Figures()
        judgedByScenario = [:]
        intervals = [:]
        compactIntervals = [:]
        encodingSeconds = [:]
        liveIntervals = []
        reportedLatency = HDRHistogram()
        for share in finals.keys {
            finals[share]!.histogram = ""
            finals[share]!.serviceHistogram = nil
            finals[share]!.connectHistogram = nil
            finals[share]!.byName = nil
            finals[share]!.sessions = nil
            finals[share]!.scenarios = nil
            finals[share]!.timings = nil
        }
    }

    /// Intervals every live driver has reported (or that are older than the newest by 2 s), in
    /// order; each is then encoded off the reactor thread (`encodingSeconds` until `secondEncoded`).
    /// `late`: the drivers still working whose interval for that second has not arrived.
    func intervalsReady() -> [(t: Int, interval: MergedInterval, late: [String])] {
        let newest = intervals.keys.max() ?? 0
        let working = Set(pending.map(\.driver))
        var ready: [(t: Int, interval: MergedInterval, late: [String])] = []
        var t = announced + 1
        while let s = intervals[t] {
            let everyone = working.allSatisfy { s.drivers.contains($0) }
            guard everyone || newest >= t + 2 || isComplete else { break }
            // Announced without them: the feed says so, and the report keeps which seconds.
            let late = working.filter { !s.drivers.contains($0) }.sorted()
            for d in late { lateSeconds[d, default: []].append(t) }
            ready.append((t, s, late))
            encodingSeconds[t] = EncodingSecond(interval: s)
            intervals[t] = nil
            announced = t
            try? LiveVerdict.accumulate(s.figures, into: &judged, for: definition.thresholds, includingLatency: true)
            for (name, one) in s.scenarios { try? judgeScenario(name, one) }
            t += 1
        }
        return ready
    }

    /// Second `t`, encoded: kept compact for `latency.hlog` (encoded again here when a driver's
    /// late interval was added to it meanwhile; dropped when the test let go of its seconds).
    func secondEncoded(_ t: Int, _ compact: CompactInterval) {
        guard let second = encodingSeconds.removeValue(forKey: t) else { return }
        compactIntervals[t] = second.changed ? CompactInterval(encoding: second.interval) : compact
    }
}
