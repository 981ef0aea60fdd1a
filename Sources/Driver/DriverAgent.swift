import Foundation
import Histogram
import LoadGenerator
import Logging
import Messaging
import Reactor
import StampedeModel
import StampedeWire
import Synchronization

/// A driver node: registers, heartbeats every second, takes test configs and triggers addressed to
/// it (or to every driver), runs the load engine at the trigger's start time, and publishes each
/// second's interval and a final message with its whole-test histogram.
///
/// Runs on the calling thread (`run()`); the load itself runs on the engine's reactor threads.
public final class DriverAgent: @unchecked Sendable {
    // @unchecked: mutable state is only touched on the agent's own thread, except `current`,
    // which is guarded by a mutex.
    public let id: String
    public let host: String
    public let threads: Int
    public let version: String
    private let bus: Bus
    private let log: Logger
    /// Configs by `test_id#part`, until their trigger comes.
    private var configs: [String: TestSpec] = [:]
    /// Triggers that arrived before their config: the two travel on different topics, and Kafka
    /// orders messages within a partition only.
    private var pendingTriggers: [String: TriggerMessage] = [:]
    /// Triggered work waiting for the current run to end (a part handed over from a failed driver
    /// arrives while this driver still runs its own share).
    private var queued: [(trigger: TriggerMessage, spec: TestSpec)] = []
    /// Work already taken (`test_id#part`): a trigger delivered twice (a producer that resent it
    /// after a broker failure) must not run a test twice.
    private var taken: Set<String> = []
    private let current = Mutex<RunningTest?>(nil)
    private let stopRequested = Atomic<Bool>(false)
    /// The newest clock probe, echoed in the next heartbeat (the orchestrator estimates this
    /// driver's clock offset from the round trip).
    private var probe: ProbeEcho?
    /// `--source-addrs`: local addresses for tests that name none (each driver host has its own).
    public var sourceAddresses: [String] = []

    struct RunningTest {
        let testID: String
        var run: LoadRun?
        /// Steering: the test's changes so far (applied to the run once it exists), and those
        /// applied after their instant.
        var changes: [ChangeMessage] = []
        var late: [LateChange] = []
    }

    /// - Parameter labels: `--label KEY=VALUE`, sent with the registration and every heartbeat.
    let labels: [String: String]

    public init(bus: Bus, id: String, host: String, threads: Int, version: String, labels: [String: String] = [:]) {
        self.bus = bus
        self.labels = labels
        self.id = id
        self.host = host
        self.threads = threads
        self.version = version
        var log = Logger(label: "stampede.driver")
        log[metadataKey: "driver_id"] = "\(id)"
        self.log = log
    }

    /// Makes `run()` finish: a running test is interrupted (its final message says so), then the
    /// driver says it is leaving. Safe from any thread.
    public func requestStop() {
        stopRequested.store(true, ordering: .relaxed)
        current.withLock { $0?.run?.interrupt() }
    }

    /// Serves until `requestStop()`.
    /// - Throws: `BusError` when the bus cannot be reached at start.
    public func run() throws {
        // Subscribe before registering, so nothing sent in answer to the registration is missed.
        let subscription = try bus.subscribe([.test_config, .trigger], from: .end)
        defer { subscription.close() }
        let publisher = try bus.makePublisher()
        defer { publisher.close() }
        var registration = RegisterMessage(driverID: id, host: host, threads: threads, version: version,
                                           pid: ProcessInfo.processInfo.processIdentifier)
        registration.labels = labels.isEmpty ? nil : labels
        try publisher.publish(.register(registration))
        log.info("registered")
        var nextHeartbeat = Date()
        while !stopRequested.load(ordering: .relaxed) {
            if Date() >= nextHeartbeat {
                heartbeat(publisher, state: nil)
                nextHeartbeat = nextHeartbeat.addingTimeInterval(1)
                if nextHeartbeat < Date() { nextHeartbeat = Date().addingTimeInterval(1) }
            }
            let wait = Swift.max(1, Swift.min(200, Int(nextHeartbeat.timeIntervalSinceNow * 1000)))
            for message in try subscription.pollMessages(timeoutMs: wait) {
                handle(message, publisher: publisher)
            }
            startNextIfIdle(publisher)
        }
        // Let a test that was interrupted publish its final message before leaving.
        let deadline = Date().addingTimeInterval(10)
        while current.withLock({ $0 != nil }) && Date() < deadline { usleep(20_000) }
        dropQueued(publisher, reason: "driver stopped before this work started") { _ in true }
        heartbeat(publisher, state: .leaving)
        if !publisher.flush(timeoutMs: 10_000) { log.error("some messages were not delivered before exit") }
        log.info("left")
    }

    private func addressedToMe(_ ids: [String]?) -> Bool { ids == nil || ids!.contains(id) }

    private static func key(_ testID: String, _ part: Int?) -> String { "\(testID)#\(part ?? 1)" }

    private func handle(_ message: BusMessage, publisher: BusPublisher) {
        switch message {
        case .testConfig(let m) where addressedToMe(m.driverIDs):
            let key = Self.key(m.testID, m.part)
            guard !taken.contains(key) else { return }  // delivered again after its trigger
            var config = m.config
            if config.shard == nil, let ids = m.driverIDs, let index = ids.firstIndex(of: id) {
                // Sequence numbers and data rows are dealt out by place among the test's drivers.
                config.shard = index
                config.shards = ids.count
            }
            configs[key] = config
            log.info("test configured", metadata: ["test_id": "\(m.testID)", "part": "\(m.part ?? 1)", "mode": "\(m.config.mode.rawValue)",
                                                  "target": "\(m.config.target)", "requests": "\(m.config.requests.map(String.init) ?? "-")"])
            if let trigger = pendingTriggers.removeValue(forKey: key) { handle(.trigger(trigger), publisher: publisher) }
        case .trigger(let m) where addressedToMe(m.driverIDs):
            let key = Self.key(m.testID, m.part)
            guard !taken.contains(key) else { log.notice("trigger delivered again; ignored", metadata: ["work": "\(key)"]); return }
            guard let spec = configs.removeValue(forKey: key) else {
                pendingTriggers[key] = m
                log.info("trigger arrived before its config; waiting for it", metadata: ["test_id": "\(m.testID)"])
                return
            }
            taken.insert(key)
            queued.append((m, spec))
            if let running = current.withLock({ $0?.testID }) {
                log.info("work queued until the running test ends", metadata: ["test_id": "\(m.testID)", "part": "\(m.part ?? 1)", "running": "\(running)"])
            }
        case .change(let m) where addressedToMe(m.driverIDs):
            current.withLock { running in
                guard running?.testID == m.testID, !(running?.changes.contains { $0.seq == m.seq } ?? true) else { return }
                running!.changes.append(m)
                if let run = running!.run { running!.late += apply(m, to: run) }
            }
        case .clockProbe(let m):
            probe = ProbeEcho(orchestratorID: m.orchestratorID, sentAtUs: m.sentAtUs, receivedAtUs: wallClockMicroseconds())
        case .stop(let m):
            dropQueued(publisher, reason: "stopped before this work started") { $0 == m.testID }
            current.withLock { if $0?.testID == m.testID { $0?.run?.interrupt() } }
        default:
            break
        }
    }

    /// Applies a change to the run at its instant on this driver's clock; one that came after
    /// it is applied now and said to be late.
    private func apply(_ m: ChangeMessage, to run: LoadRun) -> [LateChange] {
        guard let index = run.scenarios.firstIndex(where: { $0.name == m.scenario }), let change = m.change(for: id, scenario: index) else { return [] }
        let late = run.change(change, atWallMs: m.applyAtMs(for: id))
        log.info("load changed", metadata: ["test_id": "\(m.testID)", "seq": "\(m.seq)", "scenario": "\(m.scenario)", "field": "\(m.field)",
                                             "value": "\(m.valueByDriver?[id].map { "\($0)" } ?? "-")", "late_ms": "\(String(format: "%.1f", late))"])
        return late > 0 ? [LateChange(seq: m.seq, late_ms: (late * 10).rounded() / 10)] : []
    }

    /// Drops queued work of the tests `matching` selects; each gets an interrupted final message,
    /// so no test waits for work that will never run.
    private func dropQueued(_ publisher: BusPublisher, reason: String, matching: (String) -> Bool) {
        for (trigger, _) in queued where matching(trigger.testID) {
            let final = emptyFinal(testID: trigger.testID, part: trigger.part, reason: reason, interrupted: true)
            do { try publisher.publish(.final(final)) } catch { log.error("final for queued work not queued", metadata: ["test_id": "\(trigger.testID)", "error": "\(error)"]) }
        }
        queued.removeAll { matching($0.trigger.testID) }
    }

    /// Starts the oldest queued work when nothing runs.
    private func startNextIfIdle(_ publisher: BusPublisher) {
        guard let next = queued.first else { return }
        let busy = current.withLock { running -> Bool in
            if running != nil { return true }
            running = RunningTest(testID: next.trigger.testID, run: nil)
            return false
        }
        guard !busy else { return }
        queued.removeFirst()
        heartbeat(publisher, state: .busy)
        let thread = Thread { [self] in
            self.execute(testID: next.trigger.testID, part: next.trigger.part, spec: next.spec,
                         startAtMs: next.trigger.startAtMs(for: id), publisher: publisher)
        }
        thread.name = "stampede-driver-test"
        thread.start()
    }

    private func heartbeat(_ publisher: BusPublisher, state: DriverState?) {
        let running = current.withLock { $0?.testID }
        var message = HeartbeatMessage(driverID: id, state: state ?? (running == nil ? .idle : .busy), testID: running,
                                       sentAtMs: wallClockMilliseconds())
        message.labels = labels.isEmpty ? nil : labels
        message.probe = probe
        message.sentAtUs = wallClockMicroseconds()
        do { try publisher.publish(.heartbeat(message)) } catch { log.warning("heartbeat not queued", metadata: ["error": "\(error)"]) }
    }

    /// The final message of work that sent nothing (it failed to start, or never started).
    private func emptyFinal(testID: String, part: Int?, reason: String, interrupted: Bool) -> FinalMessage {
        var final = FinalMessage(driverID: id, testID: testID, startedAtMs: wallClockMilliseconds(),
                                 durationS: 0, requests: 0, responses: 0, errors: ErrorCounts(), bytesRead: 0,
                                 histogram: HDRHistogram().encodeBase64(), serviceHistogram: nil,
                                 firstError: reason, interrupted: interrupted)
        final.part = part
        return final
    }

    /// Runs one test on this thread and publishes its intervals and final message.
    private func execute(testID: String, part: Int?, spec: TestSpec, startAtMs: Int64, publisher: BusPublisher) {
        defer { current.withLock { $0 = nil } }
        func publish(_ message: BusMessage) {
            do { try publisher.publish(message) } catch { log.error("message not queued", metadata: ["topic": "\(message.topic.rawValue)", "error": "\(error)"]) }
        }
        func fail(_ reason: String) {
            log.error("test failed", metadata: ["test_id": "\(testID)", "error": "\(reason)"])
            publish(.final(emptyFinal(testID: testID, part: part, reason: reason, interrupted: false)))
        }
        let run: LoadRun
        var spec = spec
        if spec.source_addrs == nil, !sourceAddresses.isEmpty { spec.source_addrs = sourceAddresses }
        do {
            let scenarios = try spec.scenarioLoads(driver: id, driverIDs: nil, defaultThreads: threads)
            guard !scenarios.isEmpty else { fail("no scenario of the test is for this driver"); return }
            run = try LoadRun(scenarios: scenarios)
        } catch let error as ConfigError {
            fail("\(TestSpec.field(error)): \(error.reason(naming: TestSpec.field))")
            return
        } catch {
            fail("\(error)")
            return
        }
        current.withLock { running in
            running?.run = run
            for m in running?.changes ?? [] { running!.late += apply(m, to: run) }
        }
        for note in run.notes { log.warning("\(note)", metadata: ["test_id": "\(testID)"]) }
        // Start together at the trigger's wall-clock time; the connections open before it.
        if stopRequested.load(ordering: .relaxed) { run.interrupt() }
        log.info("test connecting", metadata: ["test_id": "\(testID)", "connections": "\(run.config.connections)",
                                               "start_in_ms": "\(startAtMs - wallClockMilliseconds())"])
        do {
            let result = try run.run(startAtWallMs: startAtMs, onConnected: { phase in
                var meta: Logger.Metadata = ["test_id": "\(testID)", "established": "\(phase.established)", "failed": "\(phase.failed)",
                                             "seconds": "\(String(format: "%.3f", phase.seconds))"]
                if phase.lateSeconds > 0 {
                    meta["late_s"] = "\(String(format: "%.3f", phase.lateSeconds))"
                    self.log.warning("connect phase ran past the start: the first requests went out late (their latency shows it)", metadata: meta)
                } else {
                    self.log.info("connected", metadata: meta)
                }
            }) { interval in
                var message = IntervalMessage(driverID: self.id, testID: testID, t: interval.t, requests: 0, responses: 0,
                                              errors: ErrorCounts(), bytesRead: 0, histogram: "", part: part)
                message.carry(second: interval.figures)
                message.connections = interval.connections
                message.targetRate = interval.targetRate
                message.targetConnections = interval.targetConnections
                if spec.scenario != nil {
                    // Named scenarios: each one's second (a driver running one of them: the whole).
                    let figures = interval.scenarios.isEmpty ? [interval.figures] : interval.scenarios
                    let rates = interval.scenarios.isEmpty ? [interval.targetRate] : interval.scenarioTargetRates
                    message.scenarios = Dictionary(uniqueKeysWithValues: zip(run.scenarios, zip(figures, rates)).map { s, f in
                        var share = ScenarioShare(second: f.0)
                        share.targetRate = f.1
                        return (s.name, share)
                    })
                }
                publish(.interval(message))
            }
            var final = FinalMessage(driverID: id, testID: testID, startedAtMs: Int64(result.startedAt.timeIntervalSince1970 * 1000),
                                     durationS: result.duration, requests: 0, responses: 0, errors: ErrorCounts(), bytesRead: 0,
                                     histogram: "", serviceHistogram: result.serviceTime?.encodeBase64(), firstError: result.firstError,
                                     interrupted: result.interrupted)
            final.carry(result.figures)
            final.startLagMs = (result.startLag * 1e6).rounded() / 1000
            if let phase = result.connectPhase {
                final.connectHistogram = phase.connectTime.encodeBase64()
                final.connectPhaseS = phase.seconds
                final.connectPhaseErrors = phase.failed
                final.connectLateS = phase.lateSeconds > 0 ? phase.lateSeconds : nil
            }
            final.unsentPerSecond = result.unsentPerSecond.isEmpty ? nil : result.unsentPerSecond
            final.firstCheckFailure = result.firstCheckFailure
            final.sockets = result.sockets
            final.busiest = (result.busiest * 1000).rounded() / 1000
            final.part = part
            final.lateChanges = current.withLock { $0?.late.isEmpty == false ? $0?.late : nil }
            if spec.scenario != nil {
                final.scenarios = Dictionary(uniqueKeysWithValues: result.scenarios.map { s in
                    var share = ScenarioShare(s.figures)
                    share.serviceHistogram = s.figures.serviceTime?.encodeBase64()
                    share.unsentPerSecond = s.unsentPerSecond.isEmpty ? nil : s.unsentPerSecond
                    share.durationS = s.duration
                    return (s.name, share)
                })
            }
            publish(.final(final))
            log.info("test done", metadata: ["test_id": "\(testID)", "requests": "\(result.counters.requests)", "responses": "\(result.counters.responses)"])
        } catch {
            fail("\(error)")
        }
    }
}
