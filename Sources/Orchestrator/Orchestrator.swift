import Foundation
import Histogram
import HTTPServer
import Logging
import Messaging
import Reactor
import StampedeModel
import StampedeWire
import Synchronization
import WebSocket

/// Settings of an orchestrator (the `stampede orchestrator` flags).
public struct OrchestratorOptions: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var reportsDirectory = "./reports"
    public var allowedOrigins: [String] = []
    public var token: String?
    public var heartbeatTimeoutMs = 3_000
    /// A running test fails when the bus has delivered nothing (not even our own probe) this long.
    public var busTimeoutMs = 60_000
    /// For messages only (the bus is handed in ready).
    public var brokers = ""
    /// Delay between a trigger and the drivers' common start time.
    public var startDelayMs = 1_000
    /// Targets tests may aim at (empty: any).
    public var allowedTargets = try! TargetAllowList([])
    /// A silent /ws client is pinged after this long, and dropped if still silent as long again.
    public var webSocketPingIntervalMs = 10_000
    /// Drivers whose clocks are further off than this (estimated from heartbeat round trips) are
    /// refused for tests.
    public var maxClockOffsetMs = 1_000
    /// Finished tests kept whole in memory; older ones are listed without their report and read
    /// back from the reports directory when asked for.
    public var keepTests = 200
    public init() {}
}

/// The orchestrator: REST API and WebSocket server on one reactor, fed by the Kafka topics
/// `register` and `heartbeat` (whose consumer wakes the same reactor through an fd) and `metrics`
/// (read and decoded on the intake's thread, merged on the reactor's). Its
/// parts: the driver registry, bus liveness, the test book (tests from creation to report), the
/// live feed (/ws) and the HTTP adapter (`OrchestratorAPI.swift`).
///
/// Thread-safety: everything runs on the reactor thread; other threads use `perform` and
/// `requestShutdown` (both safe anywhere), hence `@unchecked Sendable`.
public final class Orchestrator: ReactorHandler, @unchecked Sendable, ReactorTimerHandler, WebSocketHubDelegate {
    let options: OrchestratorOptions
    let clock: OrchestratorClock
    let reactor: Reactor
    let bus: Bus
    /// `register` and `heartbeat` from their ends; `metrics` from its end, or from shortly before
    /// the oldest trigger of a test still running when this orchestrator (re)started.
    let subscription: BusSubscription
    let metricsSubscription: BusSubscription
    /// Reads and decodes `metrics` off the reactor thread; merging stays here.
    private var intake: MetricsIntake!
    let publisher: BusPublisher
    var server: HTTPServer!
    var hub: WebSocketHub!
    var registry: DriverRegistry
    let book: TestBook
    var liveness: BusLiveness
    let log = Logger(label: "stampede.orchestrator")
    var timerID = 0
    /// Timer ticks (every 250 ms); a clock probe goes out every fourth.
    var ticks = 0
    var shuttingDown = false
    var shutdownDeadline: UInt64 = 0
    /// Work handed in from other threads (`perform`), run on the reactor thread.
    private let inbox = Mutex<[InboxWork]>([])
    /// Encodes /ws events off the reactor thread, in order (a 1,000-name test's final report took
    /// ~50 ms to encode), and hands each back to the reactor to broadcast.
    private let liveEventEncoder = DispatchQueue(label: "stampede.live-events")
    private let shutdownRequested = Atomic<Bool>(false)
    /// Chart.js for the dashboard, loaded on first request (empty when not installed).
    var chartJS: [UInt8]?

    /// Called on the reactor thread for each merged second and each finished test (the embedded
    /// `stampede run` prints progress from these).
    public var onInterval: ((AnnouncedInterval) -> Void)? {
        get { book.onInterval }
        set { book.onInterval = newValue }
    }
    public var onFinished: ((String, LoadReport?) -> Void)?

    /// Subscribes to the bus, listens, and is ready for `run()`.
    /// - Throws: `BusError` when Kafka cannot be used, `IOError`/`AddressError` when the address
    ///   cannot be listened on.
    public init(options: OrchestratorOptions, bus: Bus, clock: OrchestratorClock = SystemClock()) throws {
        self.options = options
        self.bus = bus
        self.clock = clock
        registry = DriverRegistry(timeoutMs: options.heartbeatTimeoutMs, maxClockOffsetMs: options.maxClockOffsetMs)
        liveness = BusLiveness(probeID: BusLiveness.probePrefix + UUID().uuidString.prefix(8), now: clock.monotonicNs())
        let reports = ReportStore(directory: URL(fileURLWithPath: options.reportsDirectory, isDirectory: true))
        reactor = try Reactor()
        let log = self.log
        let restored = reports.loadTests { path, why in log.warning("test state skipped", metadata: ["path": "\(path)", "error": "\(why)"]) }
        let resumeFrom = restored.filter { $0.status == .running }.compactMap(\.triggeredAtMs).min()
        subscription = try bus.subscribe([.register, .heartbeat], from: .end)
        metricsSubscription = try bus.subscribe([.metrics], from: resumeFrom.map { .time(msSinceEpoch: $0 - 10_000) } ?? .end)
        publisher = try bus.makePublisher()
        book = TestBook(clock: clock, publisher: publisher, reports: reports, log: log, startDelayMs: options.startDelayMs,
                        allowedTargets: options.allowedTargets)
        book.keepTests = options.keepTests
        book.driverMatches = { [unowned self] d, selector in self.registry.drivers[d]?.matches(selector) ?? false }
        book.restore(restored)
        for run in book.running {
            // Its drivers get a full heartbeat timeout to show they are alive.
            for share in run.pending { registry.expect(share.driver, testID: run.id, now: clock.monotonicNs()) }
            log.notice("test was running when the last orchestrator stopped: reading its metrics again", metadata: ["test_id": "\(run.id)"])
        }
        server = try HTTPServer(reactor: reactor, host: options.host, port: options.port, handler: self)
        let ping = UInt64(options.webSocketPingIntervalMs) * 1_000_000
        hub = WebSocketHub(reactor: reactor, pingIntervalNs: ping, pongTimeoutNs: ping)
        hub.delegate = self
        book.onEvent = { [unowned self] event in
            self.liveEventEncoder.async {
                let text = event.json
                self.perform { self.hub.broadcast(text) }
            }
        }
        book.clockOffsetMs = { [unowned self] id in self.registry.clockOffsetMs(id) }
        book.offReactor = { [pages = reports.pages] work in pages.enqueue(work) }
        book.onReactor = { [unowned self] from, work in self.perform(from: from, work) }
        book.answerOffReactor = { [answers = DispatchQueue(label: "stampede.api-answers")] work in answers.async(execute: work) }
        book.onFinished = { [unowned self] run in
            for id in run.assigned where self.registry.drivers[id]?.state == .busy { self.registry.mark(id, state: .idle, testID: nil) }
            self.onFinished?(run.id, run.report)
        }
        let kafkaHandler = reactor.addHandler(self)
        try reactor.register(fd: subscription.readinessFD, events: .readable, handler: kafkaHandler, token: 0)
        timerID = reactor.addTimerHandler(self)
        reactor.schedule(at: clock.monotonicNs() + 250_000_000, handler: timerID, token: 0)
        // A stall is what a health check would see: said once per stall, with what caused it.
        reactor.slowDispatches = (Self.slowDispatchNs, { [unowned self] what, ns in
            if busyExplained { busyExplained = false } else { logBusy(ns, what) }
        })
        reactor.onWakeup = { [unowned self] in
            self.runInbox()
            if self.shutdownRequested.load(ordering: .relaxed) { self.beginShutdown() }
        }
        drainBus()  // anything that arrived before the fd was watched
        intake = MetricsIntake(subscription: metricsSubscription, clock: clock) { [weak self] batch, merged in
            guard let self else { return merged() }
            self.perform(from: "\(batch.count) metrics message(s)") {
                for incoming in batch { self.handle(incoming) }
                merged()
            }
        }
        intake.start()
    }

    /// The port the API listens on (useful with port 0).
    public var port: Int { server.port }

    /// Runs until shut down.
    public func run() throws {
        // Reading the stored tests back (every report decoded, then all but `--keep-tests` let go)
        // left glibc's arenas full: a restart with ten 1,000-name tests stood at 94 MiB.
        returnFreedMemory()
        try reactor.run()
        intake.stop()
        book.reports.pages.waitUntilWritten()
        subscription.close()
        metricsSubscription.close()
        _ = publisher.flush(timeoutMs: 5_000)
        publisher.close()
    }

    /// Starts a graceful shutdown from any thread (SIGINT/SIGTERM): stop accepting, tell drivers to
    /// stop running tests, write the reports, close WebSockets with 1001.
    public func requestShutdown() {
        shutdownRequested.store(true, ordering: .relaxed)
        reactor.remote.wake()
    }

    /// A dispatch longer than this is logged (`the reactor was busy`): /ping waited as long.
    static let slowDispatchNs: UInt64 = 100_000_000
    /// A piece of work in the dispatch under way said it kept the reactor busy (`timed`): the
    /// reactor's own report of that dispatch is left out, one line per stall.
    private var busyExplained = false

    /// `work`, logged as `what` when it keeps the reactor busy longer than `slowDispatchNs`.
    func timed<T>(_ what: @autoclosure () -> String, _ work: () -> T) -> T {
        let started = clock.monotonicNs()
        let result = work()
        let took = clock.monotonicNs() &- started
        if took > Self.slowDispatchNs {
            logBusy(took, what())
            busyExplained = true
        }
        return result
    }

    private func logBusy(_ ns: UInt64, _ what: String) {
        log.warning("the reactor was busy", metadata: ["ms": "\(ns / 1_000_000)", "what": "\(what)"])
    }

    private func runInbox() {
        for item in inbox.withLock({ q in defer { q.removeAll() }; return q }) { timed("work from \(item.from)", item.work) }
    }

    /// Runs `work` on the reactor thread soon. Safe from any thread.
    public func perform(fileID: StaticString = #fileID, line: UInt = #line, _ work: @escaping @Sendable () -> Void) {
        perform(from: "\(fileID):\(line)", work)
    }

    /// `perform`, saying what the work is (in the log when it keeps the reactor busy).
    func perform(from: String, _ work: @escaping @Sendable () -> Void) {
        inbox.withLock { $0.append(InboxWork(work: work, from: from)) }
        reactor.remote.wake()
    }

    /// Creates a test from a TestConfig body (as POST /tests). Reactor thread only.
    public func createTest(json: [UInt8]) throws(TestBookError) -> String {
        guard !shuttingDown else { throw .shuttingDown }
        return try book.create(json: json).id
    }

    /// Creates a test from a validated config (`stampede run`). Reactor thread only.
    public func createTest(_ config: TestConfig) throws(TestBookError) -> String {
        guard !shuttingDown else { throw .shuttingDown }
        return try book.create(config).id
    }

    /// Triggers a created test on idle drivers (as POST /trigger); returns them and the common
    /// start time. Reactor thread only.
    public func triggerTest(id: String) throws(TestBookError) -> (drivers: [String], startAtMs: Int64) {
        guard !shuttingDown else { throw .shuttingDown }
        // With a driver_selector, only idle drivers carrying every listed label.
        // With scenarios: drivers any scenario's selector matches (each runs the scenarios it matches).
        let definition = book[id]?.definition
        let selectors = definition.map { $0.hasScenarios ? $0.scenarios.map(\.driverSelector) : [$0.driverSelector] } ?? [[:]]
        let matching = registry.idle.filter { d in selectors.contains { registry.drivers[d]?.matches($0) ?? false } }
        // A driver whose clock is too far off would not start with the others: left out, named.
        let refused = Dictionary(uniqueKeysWithValues: matching.compactMap { d in registry.refusal(d).map { (d, $0) } })
        let (run, chosen) = try book.trigger(id: id, idle: matching.filter { refused[$0] == nil }, refused: refused)
        for (driver, why) in refused.sorted(by: { $0.key < $1.key }) {
            log.warning("driver left out of the test", metadata: ["test_id": "\(id)", "driver_id": "\(driver)", "reason": "\(why)"])
        }
        for driver in chosen { registry.mark(driver, state: .busy, testID: run.id) }
        return (chosen, run.startAtMs)
    }

    /// How far ahead of now a change applies, in ms (so every driver switches at one instant).
    public static var changeLeadMs: Int64 { TestBook.changeLeadMs }

    /// Changes a running test's load (as `PATCH /tests/{id}`). Reactor thread only.
    public func changeTest(id: String, json: [UInt8]) throws(TestBookError) -> [ChangeRecord] {
        try book.change(id: id, body: json)
    }

    /// Pauses or resumes a running test (as `POST /tests/{id}/pause|resume`). Reactor thread only.
    public func pauseTest(id: String, paused: Bool) throws(TestBookError) -> [ChangeRecord] {
        try book.pause(id: id, paused: paused)
    }

    /// Stops a running test (as `POST /tests/{id}/stop`). Reactor thread only.
    public func stopTest(id: String) throws(TestBookError) {
        _ = try book.stop(id: id)
    }

    /// Idle drivers right now. Reactor thread only.
    public var idleDriverCount: Int { registry.idle.count }

    // MARK: Kafka

    public func reactor(_ reactor: Reactor, ready events: IOEvents, fd: Int32, token: Int) { drainBus() }

    func drainBus() {
        for source in [subscription] {
            while true {
                let messages: [BusMessage]
                do { messages = try source.pollMessages(timeoutMs: 0) } catch {
                    log.error("bus poll failed", metadata: ["error": "\(error)"])
                    break
                }
                if messages.isEmpty { break }
                for m in messages { handle(m) }
            }
        }
    }

    /// A `metrics` message from the intake (an interval's histograms decoded there).
    func handle(_ incoming: IncomingMetrics) {
        if case .interval(let m) = incoming.message {
            book.add(m, decoded: incoming.decoded, decodeCPUSeconds: incoming.decodeCPUSeconds)
        } else {
            handle(incoming.message)
        }
    }

    func handle(_ message: BusMessage) {
        let now = clock.monotonicNs()
        switch message {
        case .heartbeat(let m) where m.driverID == liveness.probeID:
            if liveness.probeArrived(now: now) { log.notice("the bus delivers again; drivers get a full heartbeat timeout from now") }
        case .heartbeat(let m) where m.driverID.hasPrefix(BusLiveness.probePrefix):
            break  // another orchestrator's probe
        case .heartbeat(let m):
            let refusedBefore = registry.refusal(m.driverID)
            if let change = registry.apply(message, now: now) { book.onEvent(.driver(id: change.id, state: change.state)) }
            if let exchange = ClockExchange(m, orchestratorID: liveness.probeID, readUs: clock.wallUs()) {
                registry.record(exchange, for: m.driverID)
            }
            let refused = registry.refusal(m.driverID)
            if let refused, refusedBefore == nil {
                log.warning("driver refused for tests", metadata: ["driver_id": "\(m.driverID)", "reason": "\(refused)"])
            } else if refused == nil, refusedBefore != nil {
                log.notice("driver's clock is within --max-clock-offset-ms again: usable for tests",
                           metadata: ["driver_id": "\(m.driverID)", "clock_offset_ms": "\(registry.clockOffsetMs(m.driverID) ?? 0)"])
            }
        case .register:
            if let change = registry.apply(message, now: now) { book.onEvent(.driver(id: change.id, state: change.state)) }
        case .interval(let m):
            book.add(m)
        case .final(let m):
            book.add(m)
        default:
            break
        }
    }

    // MARK: Timers: bus probe, driver timeouts, per-second merges, completion, shutdown

    public func reactor(_ reactor: Reactor, timerFired token: Int, now: UInt64) {
        do {
            try publisher.publish(.heartbeat(HeartbeatMessage(driverID: liveness.probeID, state: .idle, testID: nil,
                                                              sentAtMs: clock.wallMs())))
        } catch { log.warning("bus probe not queued", metadata: ["error": "\(error)"]) }
        ticks += 1
        if ticks % 4 == 1 {
            // Every driver echoes it in its next heartbeat: the clock offsets come from these.
            do { try publisher.publish(.clockProbe(ClockProbeMessage(orchestratorID: liveness.probeID, sentAtUs: clock.wallUs()))) } catch {
                log.warning("clock probe not queued", metadata: ["error": "\(error)"])
            }
        }
        if liveness.check(now: now) {
            log.warning("the bus is not delivering (own probe silent for 1 s); driver failure detection paused")
        }
        if liveness.silentLongerThan(ms: options.busTimeoutMs, now: now) {
            book.failRunning("the Kafka bus\(options.brokers.isEmpty ? "" : " (brokers \(options.brokers))") has delivered nothing for \(options.busTimeoutMs / 1000) s: the test cannot complete; the report holds what arrived before")
        }
        for id in liveness.stalled ? [] : registry.expire(now: now, heardSince: liveness.recoveredAt) {
            book.onEvent(.driver(id: id, state: DriverState.failed.rawValue))
            book.driverFailed(id)
        }
        book.tick()
        if shuttingDown {
            let running = book.running
            if running.isEmpty || now >= shutdownDeadline {
                for run in running { book.finish(run) }
                // Their reports built and written (handed back through the inbox), then every event
                // encoded so far (the finished tests' reports) goes out before the close.
                book.reports.pages.waitUntilWritten()
                runInbox()
                liveEventEncoder.sync {}
                runInbox()
                hub.closeAll(code: 1001, reason: "orchestrator shutting down")
                reactor.stop()
                return
            }
        }
        reactor.schedule(at: now + 250_000_000, handler: timerID, token: 0)
    }

    func beginShutdown() {
        guard !shuttingDown else { return }
        shuttingDown = true
        shutdownDeadline = clock.monotonicNs() + 10_000_000_000
        server.stopListening()
        for run in book.running {
            do { _ = try book.stop(id: run.id) } catch {
                log.error("stop not sent", metadata: ["test_id": "\(run.id)", "error": "\(error)"])
            }
        }
        log.notice("shutting down")
    }

    // MARK: WebSocket

    public func webSocketHub(_ hub: WebSocketHub, didConnect client: Int) {
        let intervals = Dictionary(book.running.map { ($0.id, $0.liveIntervals) }, uniquingKeysWith: { a, _ in a })
        hub.send(LiveEvent.snapshot(drivers: registry.infos(now: clock.monotonicNs()), tests: book.summaries,
                                    intervals: intervals).json, to: client)
    }

    public func webSocketHub(_ hub: WebSocketHub, client: Int, received text: String) {}
}

/// Work handed to the reactor thread, and where from.
private struct InboxWork {
    let work: @Sendable () -> Void
    let from: String
}
