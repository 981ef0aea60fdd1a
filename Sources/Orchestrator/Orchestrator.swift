import Foundation
import HTTP1
import HTTPServer
import Histogram
import StampedeModel
import StampedeWire
import Messaging
import Reactor
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
    public init() {}
}

/// The orchestrator: REST API and WebSocket server on one reactor, fed by the Kafka topics
/// `register`, `heartbeat` and `metrics` (whose consumers wake the same reactor through fds). It
/// keeps the driver registry, sends tests to drivers, merges their histograms each second and at
/// the end, and writes the reports.
///
/// Thread-safety: everything runs on the reactor thread; other threads use `perform`,
/// `requestShutdown` (both safe anywhere), hence `@unchecked Sendable`.
public final class Orchestrator: ReactorHandler, @unchecked Sendable, ReactorTimerHandler, WebSocketHubDelegate {
    let options: OrchestratorOptions
    let reactor: Reactor
    let bus: Bus
    /// `register` and `heartbeat` from their ends; `metrics` from its end, or from shortly before
    /// the oldest trigger of a test still running when this orchestrator (re)started.
    let subscription: BusSubscription
    let metricsSubscription: BusSubscription
    let publisher: BusPublisher
    var server: HTTPServer!
    var hub: WebSocketHub!
    var registry: DriverRegistry
    var tests: [String: TestRun] = [:]
    var testOrder: [String] = []
    let reports: ReportStore
    let log: (String) -> Void
    var timerID = 0
    var shuttingDown = false
    var shutdownDeadline: UInt64 = 0
    /// Work handed in from other threads (`perform`), run on the reactor thread.
    private let inbox = Mutex<[@Sendable () -> Void]>([])
    private let shutdownRequested = Atomic<Bool>(false)
    /// Called on the reactor thread for each merged second and each finished test (the embedded
    /// `stampede run` prints progress from these).
    public var onSecond: ((String, Int, LoadCounters, HDRHistogram) -> Void)?
    public var onFinished: ((String, LoadReport?) -> Void)?
    /// Time spent decoding and merging driver histograms, and how many were merged (for /metrics).
    var mergeNanoseconds: UInt64 = 0
    /// Bus liveness: the orchestrator sends itself a probe on the heartbeat topic every 250 ms. While
    /// its probes do not come back the bus (not the drivers) is stalled, so no driver is failed for
    /// silence; once they do, drivers get a full timeout from that moment.
    let probeID = "orchestrator-probe-\(UUID().uuidString.prefix(8))"
    var lastProbeSeen: UInt64 = monotonicNanoseconds()
    var busRecoveredAt: UInt64 = 0
    var busStalled = false
    /// Chart.js for the dashboard, loaded on first request (empty when not installed).
    var chartJS: [UInt8]?
    var mergedHistograms = 0

    /// Subscribes to the bus, listens, and is ready for `run()`.
    /// - Throws: `BusError` when Kafka cannot be used, `IOError`/`AddressError` when the address
    ///   cannot be listened on.
    public init(options: OrchestratorOptions, bus: Bus, log: @escaping (String) -> Void) throws {
        self.options = options
        self.bus = bus
        self.log = log
        registry = DriverRegistry(timeoutMs: options.heartbeatTimeoutMs)
        reports = ReportStore(directory: URL(fileURLWithPath: options.reportsDirectory, isDirectory: true))
        reactor = try Reactor()
        let restored = reports.loadTests { path, why in log("orchestrator: \(path) skipped: \(why)") }
        let now = monotonicNanoseconds()
        for run in restored {
            tests[run.id] = run
            testOrder.append(run.id)
            guard run.status == .running else { continue }
            // Its drivers get a full heartbeat timeout to show they are alive.
            for share in run.pending { registry.expect(share.driver, testID: run.id, now: now) }
            log("orchestrator: test \(run.id) was running when the last orchestrator stopped: reading its metrics again")
        }
        let resumeFrom = restored.filter { $0.status == .running }.compactMap(\.triggeredAtMs).min()
        subscription = try bus.subscribe([.register, .heartbeat], from: .end)
        metricsSubscription = try bus.subscribe([.metrics], from: resumeFrom.map { .time(msSinceEpoch: $0 - 10_000) } ?? .end)
        publisher = try bus.makePublisher()
        server = try HTTPServer(reactor: reactor, host: options.host, port: options.port, handler: self)
        let ping = UInt64(options.webSocketPingIntervalMs) * 1_000_000
        hub = WebSocketHub(reactor: reactor, pingIntervalNs: ping, pongTimeoutNs: ping)
        hub.delegate = self
        let kafkaHandler = reactor.addHandler(self)
        try reactor.register(fd: subscription.readinessFD, events: .readable, handler: kafkaHandler, token: 0)
        try reactor.register(fd: metricsSubscription.readinessFD, events: .readable, handler: kafkaHandler, token: 1)
        timerID = reactor.addTimerHandler(self)
        reactor.schedule(at: monotonicNanoseconds() + 250_000_000, handler: timerID, token: 0)
        reactor.onWakeup = { [unowned self] in
            for work in self.inbox.withLock({ q in defer { q.removeAll() }; return q }) { work() }
            if self.shutdownRequested.load(ordering: .relaxed) { self.beginShutdown() }
        }
        drainBus()  // anything that arrived before the fd was watched
    }

    /// The port the API listens on (useful with port 0).
    public var port: Int { server.port }

    /// Runs until shut down.
    public func run() throws {
        try reactor.run()
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

    /// Runs `work` on the reactor thread soon. Safe from any thread.
    public func perform(_ work: @escaping @Sendable () -> Void) {
        inbox.withLock { $0.append(work) }
        reactor.remote.wake()
    }

    /// Creates a test from a TestConfig body (as POST /tests). Reactor thread only.
    public func createTest(json: [UInt8]) throws(FieldError) -> String {
        let definition = try TestConfig(json: json) { "t-\(Int(Date().timeIntervalSince1970 * 1000))-\(UInt16.random(in: 0...UInt16.max))" }
        guard options.allowedTargets.allows(definition.target.bareHost) else {
            throw FieldError("target", "host \(definition.target.bareHost) is not in this orchestrator's --allow-target list")
        }
        guard tests[definition.testID] == nil else { throw FieldError("test_id", "a test with id '\(definition.testID)' exists", status: 409) }
        let run = TestRun(definition: definition)
        tests[run.id] = run
        testOrder.append(run.id)
        saveState(run)
        broadcast(["type": "test", "test": testSummary(run)])
        return run.id
    }

    /// Triggers a created test (as POST /trigger); returns the HTTP status and answer. Reactor thread only.
    public func triggerTest(id: String) -> (Int, [String: Any]) {
        guard let run = tests[id] else { return (404, ["error": "no test with id '\(id)'", "field": "test_id"]) }
        return trigger(run)
    }

    /// Idle drivers right now. Reactor thread only.
    public var idleDriverCount: Int { registry.idle.count }

    // MARK: Kafka

    public func reactor(_ reactor: Reactor, ready events: IOEvents, fd: Int32, token: Int) { drainBus() }

    func drainBus() {
        for source in [subscription, metricsSubscription] {
            while true {
                let messages: [BusMessage]
                do { messages = try source.pollMessages(timeoutMs: 0) } catch { log("orchestrator: bus: \(error)"); break }
                if messages.isEmpty { break }
                for m in messages { handle(m) }
            }
        }
    }

    /// Writes a test's state file; a failure is logged (the test goes on, a restart would miss it).
    func saveState(_ run: TestRun) {
        do { try reports.saveState(run) } catch { log("orchestrator: state of test \(run.id) not saved: \(error)") }
    }

    func handle(_ message: BusMessage) {
        let now = monotonicNanoseconds()
        switch message {
        case .heartbeat(let m) where m.driver_id == probeID:
            lastProbeSeen = now
            if busStalled {
                busStalled = false
                busRecoveredAt = now
                log("orchestrator: the bus delivers again; drivers get a full heartbeat timeout from now")
            }
        case .heartbeat(let m) where m.driver_id.hasPrefix("orchestrator-probe-"):
            break  // another orchestrator's probe
        case .register, .heartbeat:
            if let change = registry.apply(message, now: now) { announceDriver(change.id, state: change.state) }
        case .interval(let m):
            guard let run = tests[m.test_id] else { return }
            let start = monotonicNanoseconds()
            do { try run.add(m) } catch { log("orchestrator: interval from \(m.driver_id) for \(m.test_id) skipped: \(error)") }
            mergeNanoseconds += monotonicNanoseconds() - start
            mergedHistograms += 1
            // Announce a second as soon as every live driver has reported it, not at the next tick.
            announceSeconds(run)
        case .final(let m):
            guard let run = tests[m.test_id] else { return }
            run.add(m)
            if run.isComplete { finish(run) }
        default:
            break
        }
    }

    // MARK: Timers: heartbeats, per-second merges, completion, shutdown

    public func reactor(_ reactor: Reactor, timerFired token: Int, now: UInt64) {
        do {
            try publisher.publish(.heartbeat(HeartbeatMessage(driverID: probeID, state: .idle, testID: nil,
                                                              sentAtMs: Int64(Date().timeIntervalSince1970 * 1000))))
        } catch { log("orchestrator: bus probe not queued: \(error)") }
        if !busStalled && now &- lastProbeSeen > 1_000_000_000 {
            busStalled = true
            log("orchestrator: the bus is not delivering (own probe silent for 1 s); driver failure detection paused")
        }
        if busStalled && now &- lastProbeSeen > UInt64(options.busTimeoutMs) * 1_000_000 {
            for id in testOrder {
                guard let run = tests[id], run.status == .running else { continue }
                run.error = "the Kafka bus\(options.brokers.isEmpty ? "" : " (brokers \(options.brokers))") has delivered nothing for \(options.busTimeoutMs / 1000) s: the test cannot complete; the report holds what arrived before"
                log("orchestrator: test \(run.id) failed: \(run.error!)")
                finish(run)
            }
        }
        for id in busStalled ? [] : registry.expire(now: now, heardSince: busRecoveredAt) {
            announceDriver(id, state: DriverState.failed.rawValue)
            for run in tests.values where run.status == .running && run.pending.contains(where: { $0.driver == id }) {
                run.failedDrivers.insert(id)
                log("orchestrator: driver \(id) failed during test \(run.id): completing from the survivors")
                redistribute(run, from: id)
                saveState(run)
            }
        }
        for id in testOrder {
            guard let run = tests[id], run.status == .running else { continue }
            announceSeconds(run)
            if run.isComplete || run.live.isEmpty { finish(run) }
        }
        if shuttingDown {
            let running = tests.values.filter { $0.status == .running }
            if running.isEmpty || now >= shutdownDeadline {
                for run in running { finish(run) }
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
        shutdownDeadline = monotonicNanoseconds() + 10_000_000_000
        server.stopListening()
        for run in tests.values where run.status == .running {
            do { try publisher.publish(.stop(StopMessage(testID: run.id))) } catch { log("orchestrator: stop for \(run.id) not sent: \(error)") }
        }
        log("orchestrator: shutting down")
    }

    // MARK: Tests

    /// Sends a created test to drivers. Returns the HTTP status and body for POST /trigger.
    func trigger(_ run: TestRun) -> (Int, [String: Any]) {
        guard run.status == .created else {
            return (409, ["error": "test \(run.id) was already triggered (status \(run.status.rawValue))", "field": "test_id"])
        }
        let idle = registry.idle
        let wanted = run.definition.drivers ?? idle.count
        guard !idle.isEmpty, idle.count >= wanted else {
            return (503, ["error": "\(wanted) idle driver(s) needed, \(idle.count) available", "field": "drivers"])
        }
        let chosen = Array(idle.prefix(wanted))
        let spec = run.definition.spec(driverCount: chosen.count)
        let startAt = Int64(Date().timeIntervalSince1970 * 1000) + Int64(options.startDelayMs)
        do {
            try sendWork(run.id, spec: spec, to: chosen, startAtMs: startAt, part: nil)
        } catch {
            return (503, ["error": "could not send the test to the drivers: \(error)"])
        }
        run.start(drivers: chosen, startAtMs: startAt)
        run.triggeredAtMs = Int64(Date().timeIntervalSince1970 * 1000)
        run.status = .running
        saveState(run)
        for id in chosen { registry.mark(id, state: .busy, testID: run.id) }
        log("orchestrator: test \(run.id) triggered on \(chosen.joined(separator: ", "))")
        return (202, ["test_id": run.id, "status": "running", "drivers": chosen, "start_at_ms": startAt])
    }

    /// Queues a test's config and its trigger for `drivers` (`part`: see `TestConfigMessage`).
    func sendWork(_ testID: String, spec: TestSpec, to drivers: [String], startAtMs: Int64, part: Int?) throws(BusError) {
        try publisher.publish(.testConfig(TestConfigMessage(testID: testID, driverIDs: drivers, config: spec, part: part)))
        try publisher.publish(.trigger(TriggerMessage(testID: testID, driverIDs: drivers, startAtMs: startAtMs, part: part)))
    }

    func announceSeconds(_ run: TestRun) {
        for (t, s) in run.secondsReady() {
            onSecond?(run.id, t, s.counters, s.latency)
            let summary = LatencySummary(s.latency)
            broadcast(["type": "interval", "test_id": run.id, "t": t, "drivers": s.drivers.count,
                       "requests": s.counters.requests, "responses": s.counters.responses,
                       "errors": jsonObject(s.counters.errors), "rps": s.counters.responses,
                       "latency_us": jsonObject(summary), "histogram": s.latency.encodeBase64()])
        }
    }

    func finish(_ run: TestRun) {
        guard run.status == .running else { return }
        announceSeconds(run)
        do {
            let (report, latency) = try run.buildReport()
            run.report = report
            run.status = run.finals.isEmpty || run.error != nil ? .failed : .done
            try reports.write(run, report: report)
            let lags = run.startLags.values
            if let low = lags.min(), let high = lags.max() {
                log(String(format: "orchestrator: test %@ %@: %d responses, start skew across drivers %.1f ms",
                           run.id, run.status.rawValue, report.responses, high - low))
            }
            // The percentile spectrum lets the dashboard plot the whole distribution without
            // decoding the histogram in the browser.
            let spectrum = latency.percentileSpectrum(ticksPerHalfDistance: 5).map { [$0.percentile, Double($0.value)] }
            broadcast(["type": "final", "test_id": run.id, "report": jsonObject(report), "spectrum": spectrum])
        } catch {
            run.status = .failed
            log("orchestrator: test \(run.id) could not be reported: \(error)")
        }
        saveState(run)
        onFinished?(run.id, run.report)
        for id in run.assigned where registry.drivers[id]?.state == .busy {
            registry.mark(id, state: .idle, testID: nil)
        }
    }

    // MARK: WebSocket

    public func webSocketHub(_ hub: WebSocketHub, didConnect client: Int) {
        hub.send(jsonText(["type": "snapshot", "drivers": registry.json(now: monotonicNanoseconds()),
                           "tests": testOrder.compactMap { tests[$0].map(testSummary) }]), to: client)
    }

    public func webSocketHub(_ hub: WebSocketHub, client: Int, received text: String) {}

    func announceDriver(_ id: String, state: String) {
        broadcast(["type": "driver", "id": id, "state": state])
    }

    func broadcast(_ object: [String: Any]) { hub.broadcast(jsonText(object)) }

    func testSummary(_ run: TestRun) -> [String: Any] {
        var summary: [String: Any] = ["test_id": run.id, "status": run.status.rawValue, "mode": run.definition.mode.rawValue,
                                      "target": run.definition.target.description, "drivers": run.assigned]
        if let report = run.report { summary["report"] = jsonObject(report) }
        if let error = run.error { summary["error"] = error }
        return summary
    }
}

/// An Encodable value as a JSONSerialization object (to embed in `[String: Any]` documents).
func jsonObject<T: Encodable>(_ value: T) -> Any {
    let data = (try? JSONEncoder().encode(value)) ?? Data("null".utf8)
    return (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) ?? NSNull()
}

func jsonText(_ object: Any) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self)
}
