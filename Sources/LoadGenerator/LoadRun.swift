import Foundation
import Histogram
import HTTP1
import Sessions
import Reactor
import StampedeModel
import Synchronization
import TLS

/// Everything a finished run measured.
public struct LoadResult: Sendable {
    public let config: LoadSpec
    public let startedAt: Date
    /// Seconds from the start until the last response or failure.
    public let duration: Double
    /// What it measured: counters, latency in µs from the intended send time (tsunami) or the
    /// send time (avalanche), service time (tsunami), per name, sessions.
    public let figures: Figures
    /// Seconds reported through `onInterval` (the intervals themselves are not kept: a long run
    /// would hold a 184 KiB histogram per second).
    public let intervalCount: Int
    /// The first connect or TLS failure, in words, if any happened.
    public let firstError: String?
    /// The first response that failed its checks: which request, why, its body's first bytes.
    public let firstCheckFailure: String?
    /// A timed tsunami: the unsent requests by the second (0-based) they were due in.
    public let unsentPerSecond: [Int]
    public let interrupted: Bool
    /// The seed of the random mix and templates (given, or drawn at start).
    public let seed: UInt64
    /// The most sockets open at once (per thread, summed): the connections, times the origins
    /// each needed.
    public let sockets: Int
    /// Opening the connections before the schedule (nil when the run ended before every worker
    /// reported its phase, which only an error at set-up does).
    public let connectPhase: ConnectPhase?
    /// How late (s) the schedule actually began on its first worker after the intended start.
    public let startLag: Double
    /// How busy the reactor threads were: CPU time over wall time, the busiest thread (1 = a
    /// core saturated: the load generator, not the server, was the limit).
    public let busiest: Double
    /// Each scenario's own figures, in the run's order (a run of one scenario: its only one,
    /// with the same figures as the whole).
    public let scenarios: [ScenarioResult]

    public var counters: LoadCounters { figures.counters }
    public var latency: HDRHistogram { figures.latency }
    /// Tsunami only: service time in µs, from the actual send (not corrected for coordinated omission).
    public var serviceTime: HDRHistogram? { figures.serviceTime }
    /// A list of requests: the whole run's figures per name, in the list's order.
    public var byName: [NamedFigures] { figures.byName.entries }
    /// `order: sequence`: the sessions' durations (their counts are in `counters.sessions`).
    public var sessions: SessionHistograms? { figures.sessions }
}

/// Runs a load test: `threads` reactor threads, each with its share of every scenario's
/// connections and request budget (a worker per scenario on the thread, one reactor), merged at
/// the end (counters summed, histograms added), per scenario and for the whole test.
public final class LoadRun: Sendable {
    public let scenarios: [Scenario]
    /// The first scenario's load (a run of one scenario: its only one).
    public var config: LoadSpec { scenarios[0].load }
    private let parts: [ScenarioPart]
    private let remotes = Mutex<[ReactorRemote]>([])
    /// Steering: every change given to the run, in order, with its instant on this host.
    private let changeLog = Mutex<[TimedChange]>([])
    private let interruptedFlag = Atomic<Bool>(false)
    /// The clock the run and its workers time with (the machine's monotonic clock; the reactor's
    /// timers run on the same clock).
    private let clock: any MonotonicClock
    /// Advice about the set-up, found before the run (a crowded ephemeral port range), for the
    /// caller to print or log: the run goes ahead as asked.
    public let notes: [String]

    /// Validates the configuration, resolves the target and prepares TLS: every error that can be
    /// known before the first connect is thrown here.
    public convenience init(config: LoadSpec, clock: any MonotonicClock = SystemMonotonicClock()) throws {
        try self.init(scenarios: [Scenario(load: config)], clock: clock)
    }

    /// Several scenarios at once, on the same reactor threads (each validated, its targets
    /// resolved, its TLS prepared, before any connect).
    public init(scenarios: [Scenario], clock: any MonotonicClock = SystemMonotonicClock()) throws {
        precondition(!scenarios.isEmpty, "a run has at least one scenario")
        self.scenarios = scenarios
        self.clock = clock
        parts = try scenarios.map { try ScenarioPart($0) }
        // Each connection may hold a socket per origin.
        let sockets = zip(scenarios, parts).map { $0.load.allocatedConnections * $1.workload.origins.count }.reduce(0, +)
        let sources = Swift.max(1, parts[0].sources.count)
        notes = [EphemeralPorts.current()?.crowdingNote(socketsPerAddress: sockets / sources)].compactMap { $0 }
        let needed = sockets + 64
        if raiseOpenFileLimit() < needed {
            throw ConfigError(.connections, "needs \(needed) file descriptors; raise the limit with `ulimit -n`")
        }
    }

    /// Asks a running test to stop sending; requests in flight finish (within the timeout).
    /// Safe from any thread (e.g. a signal handler's queue).
    public func interrupt() {
        interruptedFlag.store(true, ordering: .relaxed)
        for remote in remotes.withLock({ $0 }) { remote.wake() }
    }

    /// Changes the running load (steering) at `atWallMs` (this host's wall clock; nil or past:
    /// now), on every worker of the change's scenario. Returns how late it came, in ms (0: in time).
    @discardableResult
    public func change(_ change: LoadChange, atWallMs: Int64?) -> Double {
        let nowNs = clock.nanoseconds()
        let ahead = atWallMs.map { Double($0) - Date().timeIntervalSince1970 * 1000 } ?? 0
        let at = nowNs + UInt64(Swift.max(0, ahead) * 1e6)
        changeLog.withLock { $0.append(TimedChange(change: change, atNs: at)) }
        for remote in remotes.withLock({ $0 }) { remote.wake() }
        return Swift.max(0, -ahead)
    }

    /// Connects in flight at once over all threads: below the SYN backlog of a default Linux
    /// server (`somaxconn` 4096, SYN backlog 1024-2048), far above what loopback needs.
    public static let connectsInFlight = 512

    /// Runs the test on the calling thread's behalf and returns when every worker is done: first
    /// the connect phase (every connection of every scenario opened, at most `connectsInFlight`
    /// at a time), then the measured schedules (each scenario's `startAfterS` after the start),
    /// from `startAtWallMs` when given (a distributed test's start: connecting runs before it) or
    /// as soon as every connection is open.
    /// `onConnected` is called on the calling thread when the connect phase has ended,
    /// `onInterval` once per second with the merged figures (and each scenario's).
    public func run(startAtWallMs: Int64? = nil, onConnected: (ConnectPhase) -> Void = { _ in },
                    onInterval: (IntervalReport) -> Void = { _ in }) throws -> LoadResult {
        let plans = WorkerPlan.plans(for: scenarios)
        let threads = (plans.map(\.thread).max() ?? 0) + 1
        let sink = IntervalSink()
        let results = Mutex<[WorkerResult?]>(Array(repeating: nil, count: plans.count))
        let done = DispatchGroup()
        let runStart = clock.nanoseconds()
        // A given wall-clock start on this host's monotonic clock (now, if it has passed: the run
        // is then late by that much before it even begins).
        let ahead = startAtWallMs.map { (Double($0) - Date().timeIntervalSince1970 * 1000) * 1e6 } ?? 0
        let gate = StartGate(workers: plans.count, start: startAtWallMs == nil ? nil : runStart + UInt64(Swift.max(0, ahead)))
        let connectLimit = Swift.max(1, Self.connectsInFlight / plans.count)
        for t in 0..<threads {
            let onThread = plans.filter { $0.thread == t }
            done.enter()
            let thread = Thread { [self] in
                defer { done.leave() }
                let threadResults = self.runThread(t, onThread, connectLimit: connectLimit, gate: gate, sink: sink)
                results.withLock { for (plan, r) in zip(onThread, threadResults) { $0[plan.slot] = r } }
            }
            thread.name = "stampede-reactor-\(t)"
            thread.start()
        }

        // Merge per-second samples as they come: second k is reported once every worker sent it
        // (or finished before reaching it).
        var pending: [Int: PendingSecond] = [:]
        var finishedAt: [Int: Int] = [:]  // worker slot -> index of its final sample
        var intervalCount = 0
        var nextSecond = 1
        func absorb(_ samples: [IntervalSample]) throws {
            for s in samples {
                var entry = pending.removeValue(forKey: s.index) ?? PendingSecond(scenarios: scenarios.count)
                try entry.add(s)
                pending[s.index] = entry
                if s.final { finishedAt[s.worker] = s.index }
            }
            while let entry = pending[nextSecond] {
                let expected = plans.indices.filter { finishedAt[$0].map { $0 >= nextSecond } ?? true }.count
                guard entry.count >= expected else { break }
                // Tsunami: what each scenario intended in this second (from its own start); the
                // whole test's is their sum.
                let paces = scenarioPaces(start: gate.start)
                let rates = scenarios.indices.map { targetRate(of: scenarios[$0], pace: paces[$0], second: nextSecond) }
                let report = IntervalReport(t: nextSecond, figures: entry.figures, connections: entry.connections,
                                            targetRate: rates.contains { $0 != nil } ? rates.compactMap { $0 }.reduce(0, +) : nil,
                                            targetConnections: targetConnections(second: nextSecond, start: gate.start),
                                            scenarios: scenarios.count > 1 ? entry.scenarios : [],
                                            scenarioTargetRates: scenarios.count > 1 ? rates : [])
                intervalCount += 1
                onInterval(report)
                pending[nextSecond] = nil
                nextSecond += 1
            }
        }
        var phase: ConnectPhase?
        func watchConnectPhase() throws {
            guard phase == nil, let parts = gate.phases else { return }
            // Every connection is open (or failed once): the schedule starts now unless its
            // start was given.
            let start = gate.open(at: clock.nanoseconds())
            for remote in remotes.withLock({ $0 }) { remote.wake() }
            phase = try ConnectPhase.merged(parts, runStart: runStart, scheduleStart: startAtWallMs == nil ? nil : start)
            onConnected(phase!)
        }
        while done.wait(timeout: .now() + .milliseconds(phase == nil ? 2 : 100)) == .timedOut {
            try watchConnectPhase()
            try absorb(sink.drain())
        }
        try watchConnectPhase()
        try absorb(sink.drain())
        let end = clock.nanoseconds()

        let finished = results.withLock { $0 }
        for case let r? in finished { if let error = r.setupError { throw error } }
        let startAt = gate.open(at: end)
        // Signed: a run that failed before its given start ends before it.
        func seconds(from a: UInt64, to b: UInt64) -> Double { Double(Int64(bitPattern: b &- a)) / 1e9 }
        var whole = ScenarioTally()
        var byScenario = Array(repeating: ScenarioTally(), count: scenarios.count)
        for (plan, r) in zip(plans, finished) {
            guard let r else { continue }
            try byScenario[plan.scenario].add(r)
            try whole.add(r, shiftedBy: scenarios.count > 1 ? Int(scenarios[plan.scenario].startAfterS) : 0)
        }
        let scenarioResults = scenarios.indices.map { k in
            ScenarioResult(scenario: scenarios[k], figures: byScenario[k].figures, unsentPerSecond: byScenario[k].unsentPerSecond,
                           firstError: byScenario[k].firstError, firstCheckFailure: byScenario[k].firstCheckFailure,
                           duration: Swift.max(0, seconds(from: startAt + UInt64(scenarios[k].startAfterS * 1e9), to: byScenario[k].endedAt ?? end)))
        }
        let lastEnd = whole.endedAt ?? end
        let firstBegin = whole.beganAt ?? startAt
        let startedAt = Date(timeIntervalSinceNow: -seconds(from: startAt, to: clock.nanoseconds()))
        return LoadResult(config: config, startedAt: startedAt, duration: Swift.max(0, seconds(from: startAt, to: lastEnd)),
                          figures: whole.figures, intervalCount: intervalCount,
                          firstError: whole.firstError, firstCheckFailure: whole.firstCheckFailure, unsentPerSecond: whole.unsentPerSecond,
                          interrupted: interruptedFlag.load(ordering: .relaxed),
                          seed: parts[0].workload.seed, sockets: whole.sockets, connectPhase: phase,
                          startLag: Swift.max(0, seconds(from: startAt, to: firstBegin)) + Swift.max(0, -ahead) / 1e9,
                          busiest: whole.busiest, scenarios: scenarioResults)
    }

    /// Tsunami: the requests scenario `s` intended in second `t` (1-based) of the test, its
    /// pace's changes followed.
    private func targetRate(of s: Scenario, pace: Pace?, second t: Int) -> Double? {
        guard s.load.mode == .tsunami else { return nil }
        // Several scenarios: each intends nothing after its end.
        let end = scenarios.count > 1 ? (s.endS ?? .infinity) : .infinity
        let from = Swift.max(0, Double(t - 1) - s.startAfterS), to = Swift.min(Double(t), end) - s.startAfterS
        guard to > from else { return 0 }
        if let profile = s.load.stages { return profile.integral(to: to) - profile.integral(to: from) }
        if let pace { return pace.integral(to: to) - pace.integral(to: from) }
        return s.load.slotsPerSecond.map { $0 * (to - from) }
    }

    /// Each scenario's pace with the changes given so far (in seconds of its own schedule), nil
    /// for one never changed or without a constant pace.
    private func scenarioPaces(start: UInt64?) -> [Pace?] {
        let log = changeLog.withLock { $0 }
        guard !log.isEmpty, let start else { return Array(repeating: nil, count: scenarios.count) }
        return scenarios.indices.map { k in
            let s = scenarios[k]
            guard s.load.stages == nil, let base = s.load.slotsPerSecond else { return nil }
            var pace: Pace?
            for c in log where c.change.scenario == k {
                let atS = Swift.max(0, c.seconds(since: start) - s.startAfterS)
                var p = pace ?? Pace(base: base)
                switch c.change.kind {
                case .rate(let r), .sessionRate(let r): p.set(r, atS: atS)
                case .pause: p.pause(atS: atS)
                case .resume: p.resume(atS: atS)
                case .connections: continue
                }
                pace = p
            }
            return pace
        }
    }

    /// Avalanche stages, or users changed while it runs: the connections wanted as second `t`
    /// ends, over its scenarios.
    private func targetConnections(second t: Int, start: UInt64?) -> Double? {
        let log = changeLog.withLock { $0 }
        let wanted = scenarios.indices.compactMap { k -> Double? in
            let s = scenarios[k]
            guard s.load.mode == .avalanche else { return nil }
            guard let profile = s.load.stages else {
                // The last change of its users applied by the second's end (none: not reported, as before).
                guard let start else { return nil }
                let changed = log.last { c in
                    guard c.change.scenario == k, case .connections = c.change.kind else { return false }
                    return c.seconds(since: start) <= Double(t)
                }
                guard let changed, case .connections(let n) = changed.change.kind else {
                    return log.contains { if $0.change.scenario == k, case .connections = $0.change.kind { true } else { false } } ? Double(s.load.connections) : nil
                }
                return Double(n)
            }
            return Double(t) < s.startAfterS ? 0 : profile.target(at: Double(t) - s.startAfterS)
        }
        return wanted.isEmpty ? nil : wanted.reduce(0, +)
    }

    /// One reactor thread: a worker for each scenario with connections on it, one reactor.
    private func runThread(_ t: Int, _ plans: [WorkerPlan], connectLimit: Int, gate: StartGate, sink: IntervalSink) -> [WorkerResult] {
        var results = Array(repeating: WorkerResult(), count: plans.count)
        // A worker that could not start has no phase: report an empty one, so nobody waits for it.
        defer { for plan in plans { gate.report(worker: plan.slot, WorkerPhase(endedAt: clock.nanoseconds())) } }
        do {
            if scenarios.contains(where: \.load.pinThreads) {
                try pinCurrentThread(to: t % ProcessInfo.processInfo.activeProcessorCount)
            }
            let cpuStart = threadCPUSeconds(), wallStart = clock.nanoseconds()
            let reactor = try Reactor()
            let thread = ThreadWorkers(count: plans.count)
            let workers = plans.map { plan in
                let part = parts[plan.scenario], load = scenarios[plan.scenario].load
                let place = WorkerPlace(scenario: plan.scenario, slot: plan.slot,
                                        startAfterNs: UInt64(scenarios[plan.scenario].startAfterS * 1e9), thread: thread)
                return Worker(reactor: reactor, config: load, endpoints: part.endpoints, sources: part.sources, tlsContext: part.tlsContext,
                              workload: part.workload, connections: plan.connections, connectionOffset: plan.offset,
                              budget: plan.budget, sessionBudget: plan.sessions, connectLimit: connectLimit, gate: gate, sink: sink, threadIndex: t, place: place, clock: clock)
            }
            reactor.onWakeup = { [workers, self] in
                let changes = self.changeLog.withLock { $0 }
                for worker in workers {
                    if self.interruptedFlag.load(ordering: .relaxed) { worker.beginStopping() }
                    worker.scheduleBegin()
                    worker.takeChanges(changes)
                }
            }
            remotes.withLock { $0.append(reactor.remote) }
            for worker in workers {
                if interruptedFlag.load(ordering: .relaxed) { worker.interruptBeforeStart() }
                worker.start()
            }
            try reactor.run()
            let busy = (threadCPUSeconds() - cpuStart) / Swift.max(Double(clock.nanoseconds() - wallStart) / 1e9, 1e-9)
            for (k, worker) in workers.enumerated() {
                let figures = worker.figures
                results[k].figures = figures.published
                results[k].peakSockets = figures.peakSockets
                results[k].beganAt = figures.beganAt == 0 ? 0 : figures.beganAt - worker.place.startAfterNs
                results[k].firstError = figures.firstError
                results[k].firstCheckFailure = figures.firstCheckFailure
                results[k].unsentPerSecond = worker.schedule.unsentPerSecond
                results[k].busy = busy
                results[k].endedAt = figures.endedAt
            }
        } catch {
            for k in results.indices { results[k].setupError = error }
        }
        let ended = clock.nanoseconds()
        for k in results.indices where results[k].endedAt == 0 { results[k].endedAt = ended }
        return results
    }
}

/// Where one origin's sockets connect: its address (resolved once, before the run) and TLS name.
struct Endpoint: Sendable {
    let address: SocketAddress
    let serverName: String
    let isTLS: Bool
    /// `serverName` as the cookie jar compares it (lower-cased, and as bytes), made once.
    let cookieHost: CookieHost

    init(address: SocketAddress, serverName: String, isTLS: Bool) {
        self.address = address
        self.serverName = serverName
        self.isTLS = isTLS
        cookieHost = CookieHost(serverName)
    }
}

/// Splits `total` into `parts` shares differing by at most one (Int.max stays Int.max each).
func split(total: Int, into parts: Int) -> [Int] {
    if total == Int.max { return Array(repeating: Int.max, count: parts) }
    return (0..<parts).map { total / parts + ($0 < total % parts ? 1 : 0) }
}
