import Foundation
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
}

/// An interval as `Orchestrator.onInterval` hands it out (`stampede run` prints and logs it).
public struct AnnouncedInterval {
    public let testID: String
    public let interval: IntervalReport
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

/// A test's life in the orchestrator: its definition, the drivers it went to, every interval merged
/// from their histograms (exact percentiles, never averaged), their final messages, the drivers
/// that failed on the way and where their unsent requests went.
final class TestRun {
    enum Status: String { case created, running, done, failed }

    let definition: TestConfig
    var status: Status = .created
    var assigned: [String] = []
    var startAtMs: Int64 = 0
    var shares: [Share: ShareWork] = [:]
    var finals: [Share: FinalMessage] = [:]
    /// Everything each share reported in its intervals so far: live figures, and a failed
    /// driver's reported intervals in the final report.
    var reported: [Share: Figures] = [:]
    /// Every share's reported latency summed: the live report's histogram, kept as messages
    /// arrive (a sparse add each) instead of merged from every share on each request for it.
    private var reportedLatency = HDRHistogram()
    /// Every latency reported in the test's intervals so far, all drivers merged: the live chart's.
    var latencySoFar: HDRHistogram { reportedLatency }
    func dropReportedLatency() { reportedLatency = HDRHistogram() }
    var failedDrivers: Set<String> = []
    var redistributed: [Redistribution] = []
    /// Intervals still being merged (a full histogram each).
    var intervals: [Int: MergedInterval] = [:]
    /// Intervals already announced, kept compact (encoded) for `latency.hlog`: a long test would
    /// otherwise hold 184 KiB per interval.
    var compactIntervals: [Int: CompactInterval] = [:]
    /// Intervals already sent on /ws, and (while running) those events without their
    /// histograms, for the snapshot of a client that connects mid-test.
    var announced = 0
    var liveIntervals: [LiveEvent.IntervalEvent] = []
    private var seenIntervals: Set<String> = []
    var report: LoadReport?
    /// Why the test could not complete (it then ends `failed`, its report partial).
    var error: String?
    let createdAtMs: Int64
    /// Wall clock of the trigger (a restarted orchestrator reads the metrics topic from shortly before).
    var triggeredAtMs: Int64?
    /// When a stop was asked for (`POST /tests/{id}/stop`); nil: never.
    var stoppedAtMs: Int64?
    /// Each driver's clock offset (ms, its clock minus the orchestrator's) when it was sent work:
    /// its start time was moved by it, and its reported times are read back with it.
    var clockOffsetsMs: [String: Double] = [:]
    /// Idle drivers the test did not use, and why (a clock too far off).
    var refusedDrivers: [String: String] = [:]
    /// Seconds announced on the feed before a driver's interval for them arrived, by driver.
    var lateSeconds: [String: [Int]] = [:]
    /// Requests failed drivers' finals say they sent beyond what they reported in time.
    var sentAfterFailure: [String: Int] = [:]
    var finalsAfterFailure: Set<Share> = []

    /// `test_type: SEARCH`: the search so far, and the rate of its current step.
    var search: CapacitySearch?
    var searchRate = 0.0
    /// The part the search's current step runs as: its newest (a search hands nothing over, so
    /// every part after the first is a step).
    var searchPart: Int { nextPart - 1 }

    init(createdAtMs: Int64, definition: TestConfig) {
        self.definition = definition
        search = definition.search
        searchRate = definition.search?.firstRate ?? 0
        self.createdAtMs = createdAtMs
    }

    var id: String { definition.testID }

    /// Records the drivers a test was sent to, each with its own share.
    func start(drivers: [String], startAtMs: Int64) {
        assigned = drivers
        self.startAtMs = startAtMs
        for (index, d) in drivers.enumerated() {
            shares[Share(driver: d, part: 1)] = ShareWork(requests: definition.requestsPerDriver, startAtMs: startAtMs,
                                                          shard: index, shards: drivers.count, seqStart: 0)
        }
    }

    /// A restarted orchestrator's search goes on where it was: the steps judged before, and the
    /// rate now running.
    func resumeSearch(steps: [SearchStep]) {
        guard search != nil else { return }
        for step in steps { if let next = search!.record(step) { searchRate = next } }
    }

    /// The first `{{seq}}` number above every share's: each share up to its count, or what it
    /// sent (its final, else what it reported). A search step starts its drivers above it.
    var nextFreeSequence: Int {
        shares.map { share, work in
            let used = work.requests ?? finals[share]?.requests ?? reported[share]?.counters.requests ?? 0
            return used == 0 ? 0 : work.shard + work.shards * (work.seqStart + used - 1) + 1
        }.max() ?? 0
    }

    /// The next part number for handed-over work.
    var nextPart: Int { (shares.keys.map(\.part).max() ?? 1) + 1 }

    func add(_ m: IntervalMessage) throws {
        let share = Share(driver: m.driverID, part: m.part ?? 1)
        // A failed driver's unsent requests were handed over when it failed: whatever it says
        // later would count twice.
        guard let work = shares[share], !failedDrivers.contains(m.driverID) else { return }
        guard seenIntervals.insert("\(m.driverID)/\(share.part)/\(m.t)").inserted else { return }  // a redelivered message counts once
        // Decoded once, sparse: each addition below touches only the non-zero counters. All of
        // it is decoded and checked before anything is counted, so a bad message counts nowhere.
        let figures = try m.decodedFigures()
        let histogram = figures.latency
        let sessions = figures.sessions
        // A test's clock: a handed-over part's intervals count from its own start.
        let t = m.t + Int((Double(work.startAtMs - startAtMs) / 1000).rounded())
        // Sums checked before anything is counted: counts that do not fit refuse the message.
        try reported[share]?.checkAddable(figures)
        try intervals[t]?.figures.checkAddable(figures)
        // In place: a copy would duplicate a whole histogram per message.
        try reported[share, default: Figures()].add(figures)
        try reportedLatency.add(histogram)
        if var late = compactIntervals[t] {
            // A driver's interval that arrived after it was announced: fold it into the log.
            var merged = try HDRHistogram(base64: late.encoded)
            try merged.add(histogram)
            late.encoded = merged.encodeBase64()
            late.errors += m.errors.total
            late.max = merged.max
            if let sessions {
                var h = sessions.duration
                if let before = late.sessions { try h.add(try HDRHistogram(base64: before.encoded)) }
                late.sessions = (h.encodeBase64(), h.max)
            }
            for (name, share) in m.byName ?? [:] {
                var named = try HDRHistogram(base64: share.histogram)
                if let before = late.byName[name] { try named.add(try HDRHistogram(base64: before.encoded)) }
                late.byName[name] = (named.encodeBase64(), named.max)
            }
            compactIntervals[t] = late
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
        intervals[t] = s
    }

    func add(_ m: FinalMessage) {
        let share = Share(driver: m.driverID, part: m.part ?? 1)
        guard shares[share] != nil else { return }
        guard !failedDrivers.contains(m.driverID) else { return noteFinalAfterFailure(m, share: share) }
        // A final read again after the test ended (a restart reads the topic back) adds nothing.
        guard status != .done && status != .failed else { return }
        var final = m
        // Its start on the orchestrator's clock: the report's times are all on one clock.
        if let offset = clockOffsetsMs[m.driverID] { final.startedAtMs -= Int64(offset.rounded()) }
        finals[share] = final
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

    /// Intervals every live driver has reported (or that are older than the newest by 2 s), in
    /// order, each with its histogram encoded (as kept for `latency.hlog`).
    /// `late`: the drivers still working whose interval for that second has not arrived.
    func intervalsReady() -> [(t: Int, interval: MergedInterval, encoded: String, late: [String])] {
        let newest = intervals.keys.max() ?? 0
        let working = Set(pending.map(\.driver))
        var ready: [(t: Int, interval: MergedInterval, encoded: String, late: [String])] = []
        var t = announced + 1
        while let s = intervals[t] {
            let everyone = working.allSatisfy { s.drivers.contains($0) }
            guard everyone || newest >= t + 2 || isComplete else { break }
            // Announced without them: the feed says so, and the report keeps which seconds.
            let late = working.filter { !s.drivers.contains($0) }.sorted()
            for d in late { lateSeconds[d, default: []].append(t) }
            let f = s.figures
            let encoded = f.latency.encodeBase64()
            ready.append((t, s, encoded, late))
            compactIntervals[t] = CompactInterval(encoded: encoded, max: f.latency.max,
                                                  byName: Dictionary(f.byName.entries.map { ($0.name, ($0.latency.encodeBase64(), $0.latency.max)) },
                                                                     uniquingKeysWith: { a, _ in a }),
                                                  targetRate: s.targetRate, errors: f.counters.errors.total,
                                                  sessions: f.sessions.map { ($0.duration.encodeBase64(), $0.duration.max) })
            intervals[t] = nil
            announced = t
            t += 1
        }
        return ready
    }

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
                try total.add(r)
            }
            let begin = used.map { Double($0.startedAtMs) / 1000 }.min() ?? Double(startAtMs) / 1000
            let end = used.map { Double($0.startedAtMs) / 1000 + $0.durationS }.max() ?? begin
            start = Date(timeIntervalSince1970: begin)
            duration = end - begin
        } else {
            // Live figures: from each share's intervals so far (their latency summed as it came).
            total.latency = reportedLatency
            for (_, r) in reported.sorted(by: { $0.key < $1.key }) { try total.add(r, includingLatency: false) }
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
        if stoppedAtMs != nil || finals.values.contains(where: \.interrupted) { report.interrupted = true }
        report.first_error = finals.sorted { $0.key < $1.key }.lazy.compactMap(\.value.firstError).first
        report.first_check_failure = finals.sorted { $0.key < $1.key }.lazy.compactMap(\.value.firstCheckFailure).first
        report.redistributed = redistributed.isEmpty ? nil : redistributed
        setDistribution(&report)
        report.setByName(byName)
        if definition.load.schedulesRequests && finished {
            // Each part's seconds count from its own start: placed on the test's clock.
            let perSecond = finals.sorted { $0.key < $1.key }.reduce(into: [Int]()) { sum, entry in
                let offset = Int((Double((shares[entry.key]?.startAtMs ?? startAtMs) - startAtMs) / 1000).rounded())
                sum = addedPerSecond(sum, Array(repeating: 0, count: Swift.max(0, offset)) + (entry.value.unsentPerSecond ?? []))
            }
            report.setIntended(counters, perSecond: perSecond)
        }
        if definition.load.order == .sequence {
            report.setSessions(counters.sessions, histograms: total.sessions ?? SessionHistograms(), byName: byName,
                               onlyStep: definition.load.requests[0].displayName)
        }
        report.seed = definition.load.seed
        report.search = search?.report
        if finished {
            try setConnectPhase(&report)
            report.connections = definition.load.connections * assigned.count
            // Each driver's own share (handed-over parts run after it, on the same connections' budget).
            report.sockets = finals.filter { $0.key.part == 1 }.values.compactMap(\.sockets).reduce(0, +)
        }
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

    /// Start skew across drivers: how late each started after `start_at_ms`, from their own shares' finals.
    var startLags: [String: Double] {
        var lags: [String: Double] = [:]
        for (share, f) in finals where share.part == 1 { lags[share.driver] = f.startLagMs }
        return lags
    }
}
