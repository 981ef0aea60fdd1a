import Foundation
import Histogram
import Logging
import Messaging
import Reactor
import StampedeModel
import StampedeWire

/// Why the test book refused a request. The HTTP adapter maps each to a status.
public enum TestBookError: Error, Equatable, CustomStringConvertible {
    /// The TestConfig is wrong (400 naming the field).
    case invalid(FieldError)
    /// The target's host is not on the `--allow-target` list.
    case targetNotAllowed(host: String)
    case exists(testID: String)
    case notFound(testID: String)
    case alreadyTriggered(testID: String, status: String)
    /// Only a running test can be stopped.
    case notRunning(testID: String, status: String)
    case notEnoughDrivers(wanted: Int, idle: Int)
    /// Too few idle drivers with a usable clock: `refused` says why each other one is left out.
    case driversRefused(wanted: Int, usable: Int, refused: [String: String])
    /// Too few idle drivers carry the labels of the test's `driver_selector`.
    case noMatchingDrivers(selector: [String: String], wanted: Int, matching: Int)
    /// A scenario's `driver_selector` matches none of the test's drivers.
    case noScenarioDrivers(scenario: String, selector: [String: String])
    /// The bus did not take the test's messages.
    case notSent(String)
    case shuttingDown

    public var description: String {
        switch self {
        case .invalid(let e): return e.description
        case .targetNotAllowed(let host): return "host \(host) is not in this orchestrator's --allow-target list"
        case .exists(let id): return "a test with id '\(id)' exists"
        case .notFound(let id): return "no test with id '\(id)'"
        case .alreadyTriggered(let id, let status): return "test \(id) was already triggered (status \(status))"
        case .notRunning(let id, let status): return "test \(id) is not running (status \(status)): only a running test can be stopped, paused or changed"
        case .notEnoughDrivers(let wanted, let idle): return "\(wanted) idle driver(s) needed, \(idle) available"
        case .driversRefused(let wanted, let usable, let refused):
            return "\(wanted) idle driver(s) needed, \(usable) usable; refused: "
                + refused.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
        case .noMatchingDrivers(let selector, let wanted, let matching):
            return "driver_selector \(selector.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")): "
                + "\(wanted) idle driver(s) with those labels needed, \(matching) available"
        case .noScenarioDrivers(let scenario, let selector):
            return "scenario \(scenario): driver_selector \(selector.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")) "
                + "matches none of the idle drivers"
        case .notSent(let why): return "could not send the test to the drivers: \(why)"
        case .shuttingDown: return "shutting down"
        }
    }
}

/// Every test of the orchestrator, from creation to report: validates and creates, sends work to
/// drivers, merges what they report second by second (exact percentiles, never averaged), hands a
/// failed driver's unsent requests to survivors, finishes and writes the reports. Speaks no HTTP:
/// results are values and typed errors; what users watch goes to `onEvent`.
///
/// Thread-safety: none; the orchestrator calls it on its reactor thread only.
final class TestBook {
    let clock: OrchestratorClock
    let publisher: BusPublisher
    let reports: ReportStore
    let log: Logger
    /// Delay between a trigger and the drivers' common start time.
    let startDelayMs: Int
    let allowedTargets: TargetAllowList
    private(set) var tests: [String: TestRun] = [:]
    private(set) var order: [String] = []
    /// Finished tests beyond `keepTests`, as listed (without their report): the rest is on disk.
    private(set) var archived: [String: TestSummary] = [:]
    /// Whether a driver carries a scenario's labels (its `driver_selector`); the orchestrator
    /// answers from its registry.
    var driverMatches: (String, [String: String]) -> Bool = { _, _ in true }
    /// Finished runs of named tests, oldest first (`TestBook+History`).
    var history: [String: [HistoryRun]] = [:]
    /// Finished tests kept whole in memory (`--keep-tests`).
    var keepTests = 200
    /// What users watch: the /ws feed.
    var onEvent: (LiveEvent) -> Void = { _ in }
    /// Each merged second and each finished test (the embedded `stampede run` prints progress).
    var onInterval: ((AnnouncedInterval) -> Void)?
    var onFinished: ((TestRun) -> Void)?
    /// Where a finished test's report is built and its announced seconds are encoded, in order,
    /// and how the outcome comes back to the thread that owns the book: inline unless set (the
    /// orchestrator sets the page writer's thread and its reactor's inbox).
    var offReactor: (@escaping @Sendable () -> Void) -> Void = { $0() }
    var onReactor: @Sendable (_ what: String, _ work: @escaping @Sendable () -> Void) -> Void = { $1() }
    /// Where `GET /tests/{id}` answers are made (inline unless set), and who waits for each.
    var answerOffReactor: (@escaping @Sendable () -> Void) -> Void = { $0() }
    var detailWaiters: [String: [([UInt8]?) -> Void]] = [:]
    /// CPU time spent decoding (on the metrics intake's thread) and merging (on the reactor's)
    /// driver histograms (CPU, not wall: on a busy host a thread may be descheduled mid-merge),
    /// and how many (for /metrics).
    private(set) var mergeCPUSeconds = 0.0
    private(set) var mergedHistograms = 0
    /// A driver's estimated clock offset (its clock minus ours, ms): each driver is given its start
    /// time on its own clock. Nil: not measured (the common start time as it is).
    var clockOffsetMs: (String) -> Double? = { _ in nil }

    init(clock: OrchestratorClock, publisher: BusPublisher, reports: ReportStore, log: Logger, startDelayMs: Int,
         allowedTargets: TargetAllowList) {
        self.clock = clock
        self.publisher = publisher
        self.reports = reports
        self.log = log
        self.startDelayMs = startDelayMs
        self.allowedTargets = allowedTargets
    }

    /// Tests held in memory, in creation order.
    var all: [TestRun] { order.compactMap { tests[$0] } }
    /// Every test, in creation order: archived ones without their report.
    var summaries: [TestSummary] { order.compactMap { tests[$0]?.summary ?? archived[$0] } }
    var running: [TestRun] { all.filter { $0.status == .running } }
    /// Whether a test of that id exists (in memory or archived).
    func knows(_ id: String) -> Bool { tests[id] != nil || archived[id] != nil }
    /// A test in memory, or an archived one read back from its directory (not kept).
    subscript(id: String) -> TestRun? {
        if let run = tests[id] { return run }
        guard archived[id] != nil else { return nil }
        return reports.loadTest(id: id) { path, why in log.warning("archived test unreadable", metadata: ["path": "\(path)", "error": "\(why)"]) }
    }

    /// Takes back tests read from the reports directory (a restarted orchestrator).
    func restore(_ runs: [TestRun]) {
        for run in runs where tests[run.id] == nil {
            tests[run.id] = run
            order.append(run.id)
            if let report = run.report { recordHistory(report) }
        }
        archiveOldTests()
    }

    /// Keeps the newest `keepTests` finished tests whole; older finished ones leave memory.
    func archiveOldTests() {
        var finished = order.filter { id in tests[id].map { $0.status == .done || $0.status == .failed } ?? false }
        while finished.count > keepTests {
            let id = finished.removeFirst()
            guard let run = tests.removeValue(forKey: id) else { continue }
            var summary = run.summary
            summary.report = nil
            archived[id] = summary
        }
    }

    /// Validates a TestConfig body and creates the test.
    func create(json: [UInt8]) throws(TestBookError) -> TestRun {
        let config: TestConfig
        do {
            config = try TestConfig(json: json) { "t-\(self.clock.wallMs())-\(UInt16.random(in: 0...UInt16.max))" }
        } catch { throw .invalid(error) }
        return try create(config)
    }

    /// Creates a test from a validated config.
    func create(_ config: TestConfig) throws(TestBookError) -> TestRun {
        // Every origin of a request list, not just the first.
        let hosts = config.compiled.map(\.origin.bareHost)
        if let host = hosts.first(where: { !allowedTargets.allows($0) }) { throw .targetNotAllowed(host: host) }
        guard tests[config.testID] == nil && archived[config.testID] == nil else { throw .exists(testID: config.testID) }
        let run = TestRun(createdAtMs: clock.wallMs(), definition: config)
        tests[run.id] = run
        order.append(run.id)
        save(run)
        onEvent(.test(run.summary))
        return run
    }

    /// Stops a running test (`POST /tests/{id}/stop`): its drivers stop sending, let requests in
    /// flight finish and send their finals, so the report holds everything sent and says
    /// `interrupted`. A search takes no further step; a driver failing afterwards hands nothing over.
    func stop(id: String) throws(TestBookError) -> TestRun {
        guard let run = tests[id] else { throw .notFound(testID: id) }
        guard run.status == .running else { throw .notRunning(testID: id, status: run.status.rawValue) }
        guard run.stoppedAtMs == nil else { return run }  // asked again: already on its way
        do { try publisher.publish(.stop(StopMessage(testID: id))) } catch { throw .notSent("\(error)") }
        _ = run.stopRequested(atMs: clock.wallMs())
        save(run)
        log.notice("test stopped on request", metadata: ["test_id": "\(id)"])
        return run
    }

    /// Sends a created test to drivers chosen from `idle` (sorted ids); returns the chosen ones.
    /// `refused`: idle drivers left out, each with the reason (named when too few remain).
    /// Each scenario runs on the chosen drivers `driverMatches` says carry its labels.
    func trigger(id: String, idle: [String], refused: [String: String] = [:]) throws(TestBookError) -> (run: TestRun, drivers: [String]) {
        guard let run = tests[id] else { throw .notFound(testID: id) }
        guard run.status == .created else { throw .alreadyTriggered(testID: id, status: run.status.rawValue) }
        let wanted = run.definition.drivers ?? idle.count
        guard !idle.isEmpty, idle.count >= wanted else {
            if !refused.isEmpty { throw .driversRefused(wanted: Swift.max(wanted, 1), usable: idle.count, refused: refused) }
            if !run.definition.driverSelector.isEmpty {
                throw .noMatchingDrivers(selector: run.definition.driverSelector, wanted: Swift.max(wanted, 1), matching: idle.count)
            }
            throw .notEnoughDrivers(wanted: Swift.max(wanted, 1), idle: idle.count)
        }
        let chosen = Array(idle.prefix(wanted))
        let startAt = clock.wallMs() + Int64(startDelayMs)
        let spec: TestSpec
        do { spec = try run.definition.spec(drivers: chosen, matches: driverMatches) } catch {
            throw .noScenarioDrivers(scenario: error.scenario, selector: error.selector)
        }
        do {
            try sendWork(run.id, spec: spec, to: chosen, startAtMs: startAt, part: nil)
        } catch { throw .notSent("\(error)") }
        run.triggered(drivers: chosen, startAtMs: startAt, refused: refused, atMs: clock.wallMs())
        save(run)
        onEvent(.test(run.summary))
        log.info("test triggered", metadata: ["test_id": "\(run.id)", "drivers": "\(chosen.joined(separator: ","))"])
        return (run, chosen)
    }

    /// Queues a test's config and its trigger for `drivers` (`part`: see `TestConfigMessage`).
    /// Each driver is told its start on its own clock (`start_at_ms_by_driver`), and the offsets
    /// used are kept for the report and for reading its drivers' times back.
    func sendWork(_ testID: String, spec: TestSpec, to drivers: [String], startAtMs: Int64, part: Int?) throws(BusError) {
        var trigger = TriggerMessage(testID: testID, driverIDs: drivers, startAtMs: startAtMs, part: part)
        let offsets = clockOffsets(of: drivers)
        trigger.startAtMsByDriver = onDriverClocks(startAtMs, offsets)
        try publisher.publish(.testConfig(TestConfigMessage(testID: testID, driverIDs: drivers, config: spec, part: part)))
        try publisher.publish(.trigger(trigger))
        tests[testID]?.usedClockOffsets(offsets)
    }

    /// One second of one driver: merged, and announced as soon as every live driver sent it.
    /// `decoded`: its histograms decoded already (off this thread), taking `decodeCPUSeconds`.
    func add(_ m: IntervalMessage, decoded: Result<DecodedInterval, any Error>? = nil, decodeCPUSeconds: Double = 0) {
        guard let run = tests[m.testID] else { return }
        log.debug("interval", metadata: ["test_id": "\(m.testID)", "driver_id": "\(m.driverID)", "t": "\(m.t)", "part": "\(m.part ?? 1)",
                                         "announced": "\(run.announced)"])
        let start = clock.threadCPUSeconds()
        do { try run.add(m, decoded: try decoded?.get()) } catch {
            log.warning("interval skipped", metadata: ["driver_id": "\(m.driverID)", "test_id": "\(m.testID)", "error": "\(error)"])
        }
        mergeCPUSeconds += clock.threadCPUSeconds() - start + decodeCPUSeconds
        mergedHistograms += m.histogramCountWithScenarios
        announceIntervals(run)
    }

    /// One driver's end of its share; the test finishes when every share has ended.
    func add(_ m: FinalMessage) {
        guard let run = tests[m.testID] else { return }
        if case .sentAfterFailure(let requests, let amended) = run.add(m) {
            log.warning("a failed driver reached the broker again and reported what it sent while cut off: not counted (its work was handed over), listed under sent_after_failure",
                        metadata: ["test_id": "\(run.id)", "driver_id": "\(m.driverID)", "requests": "\(requests)"])
            if let amended {
                do { try reports.write(run, report: amended) } catch {
                    log.error("report not amended", metadata: ["test_id": "\(run.id)", "error": "\(error)"])
                }
            }
        }
        if run.isComplete && !advanceSearch(run) { finish(run) }
    }

    /// A driver went silent: the running tests it worked on complete from the survivors.
    func driverFailed(_ id: String) {
        for run in running where run.pending.contains(where: { $0.driver == id }) {
            run.driverFailed(id)
            log.warning("driver failed during test: completing from the survivors", metadata: ["driver_id": "\(id)", "test_id": "\(run.id)"])
            redistribute(run, from: id)
            save(run)
        }
    }

    /// Announces the intervals that are ready and finishes tests with nothing left to wait for.
    func tick() {
        for run in running {
            announceIntervals(run)
            if run.live.isEmpty || (run.isComplete && !advanceSearch(run)) { finish(run) }
        }
    }

    /// Ends every running test with `error` (their reports hold what arrived before).
    func failRunning(_ error: String) {
        for run in running {
            run.failed(error)
            log.error("test failed", metadata: ["test_id": "\(run.id)", "error": "\(error)"])
            finish(run)
        }
    }

    func announceIntervals(_ run: TestRun) {
        let ready = run.intervalsReady()
        // The whole test so far, for the live percentile chart: merged once per batch of seconds.
        // (Every reported second merged as it arrived: no report is built for it, which with
        // 1,000 names cost hundreds of milliseconds of the reactor's time each second.)
        var spectrum: [[Double]]?
        var verdict: LiveVerdict?
        if let last = ready.last {
            spectrum = run.latencySoFar.percentileSpectrum(ticksPerHalfDistance: 5).map { [$0.percentile, Double($0.value)] }
            // The thresholds on the whole fleet so far, as the report will judge them.
            do { verdict = try run.liveVerdict(elapsedS: Double(last.t)) } catch {
                log.warning("thresholds not judged this second", metadata: ["test_id": "\(run.id)", "error": "\(error)"])
            }
        }
        for (t, s, late) in ready {
            var figures = s.figures
            figures.byName = FiguresByName(figures.byName.sortedByName)
            let second = IntervalReport(t: t, figures: figures, connections: s.connections, targetRate: s.targetRate,
                                        targetConnections: s.targetConnections)
            onInterval?(AnnouncedInterval(testID: run.id, interval: second, thresholds: verdict?.states ?? []))
            if !late.isEmpty {
                log.notice("second announced before every driver's interval arrived: its figures lack them (the report will not)",
                           metadata: ["test_id": "\(run.id)", "t": "\(t)", "late_drivers": "\(late.joined(separator: ","))"])
            }
            // Encoded (the second for latency.hlog, each name's histogram) and made into the /ws
            // event off the reactor thread: 1,000 names took ~60 ms a second here.
            let paused = run.steering.isPaused(second: t)
            let scenarios = run.definition.hasScenarios ? run.definition.scenarios.map(\.name) : nil
            let sequence = run.definition.load.order == .sequence
            let made = Handoff(value: (book: self, run: run, second: second, figures: figures, merged: s,
                                       thresholds: verdict?.states, id: run.id, spectrum: spectrum))
            let onReactor = onReactor
            offReactor {
                let (_, _, second, figures, merged, thresholds, id, spectrum) = made.value
                let compact = CompactInterval(encoding: merged)
                var event = LiveEvent.IntervalEvent(testID: id, t: t, drivers: merged.drivers.count, counters: figures.counters,
                                                    latency: LatencySummary(figures.latency), histogram: compact.encoded, byName: second.byName,
                                                    encodedByName: compact.byName.mapValues(\.encoded), connections: merged.connections,
                                                    targetRate: merged.targetRate, targetConnections: merged.targetConnections)
                event.spectrum = spectrum
                event.setPhases(figures.timings)
                event.thresholds = thresholds
                if paused { event.paused = true }
                if let scenarios {
                    event.scenarios = Dictionary(uniqueKeysWithValues: scenarios.map { name in
                        (name, ScenarioSecond(merged.scenarios[name] ?? Figures(), targetRate: merged.scenarioTargetRates[name]))
                    })
                }
                if !late.isEmpty { event.late_drivers = late }
                if sequence { event.setSessions(figures.counters.sessions, duration: figures.sessions?.duration) }
                let done = Handoff(value: (compact, event))
                onReactor("second \(t) of \(id), encoded") {
                    let (book, run) = (made.value.book, made.value.run), (compact, event) = done.value
                    run.secondEncoded(t, compact)
                    book.onEvent(.interval(event))
                    // Kept for the snapshot without histograms; only the newest keeps the spectrum so far.
                    var kept = event
                    kept.histogram = nil
                    kept.by_name = nil
                    run.announced(kept)
                }
            }
        }
        // A test whose every share has ended has nothing left to stop (its report is being made).
        if let abort = verdict?.abort, run.status == .running, !run.pending.isEmpty { self.abort(run, abort) }
    }

    /// A threshold with `abort_on_fail` failed on the merged figures: every driver is told to
    /// stop (as `POST /tests/{id}/stop` does), and the report will say why.
    func abort(_ run: TestRun, _ abort: AbortReport) {
        guard run.stoppedAtMs == nil else { return }
        do { try publisher.publish(.stop(StopMessage(testID: run.id))) } catch {
            log.error("abort not sent: the test runs on", metadata: ["test_id": "\(run.id)", "error": "\(error)"])
            return
        }
        _ = run.aborted(abort, atMs: clock.wallMs())
        save(run)
        log.warning("test aborted by a threshold", metadata: ["test_id": "\(run.id)", "threshold": "\(abort.threshold)",
                                                              "value": "\(abort.value)", "limit": "\(abort.limit)", "at_s": "\(abort.at_s)"])
    }

    /// Writes a test's state file; a failure is logged (the test goes on, a restart would miss it).
    func save(_ run: TestRun) {
        do { try reports.saveState(run) } catch {
            log.error("test state not saved", metadata: ["test_id": "\(run.id)", "error": "\(error)"])
        }
    }
}

extension TestRun {
    var summary: TestSummary {
        TestSummary(testID: id, status: status.rawValue, mode: definition.mode, target: definition.label,
                    drivers: assigned, report: report, error: error)
    }
}
