import Foundation
import Histogram
import HTTP1
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

    public var counters: LoadCounters { figures.counters }
    public var latency: HDRHistogram { figures.latency }
    /// Tsunami only: service time in µs, from the actual send (not corrected for coordinated omission).
    public var serviceTime: HDRHistogram? { figures.serviceTime }
    /// A list of requests: the whole run's figures per name, in the list's order.
    public var byName: [NamedFigures] { figures.byName.entries }
    /// `order: sequence`: the sessions' durations (their counts are in `counters.sessions`).
    public var sessions: SessionHistograms? { figures.sessions }
}

/// Runs a load test: `threads` reactor threads, each with its share of the connections and of the
/// request budget, merged at the end (counters summed, histograms added).
public final class LoadRun: Sendable {
    public let config: LoadSpec
    private let endpoints: [Endpoint]
    private let sources: [SocketAddress]
    private let workload: Workload
    private let tlsContext: TLSContext?
    private let remotes = Mutex<[ReactorRemote]>([])
    private let interruptedFlag = Atomic<Bool>(false)
    /// The clock the run and its workers time with (the machine's monotonic clock; the reactor's
    /// timers run on the same clock).
    private let clock: any MonotonicClock
    /// Advice about the set-up, found before the run (a crowded ephemeral port range), for the
    /// caller to print or log: the run goes ahead as asked.
    public let notes: [String]

    /// Validates the configuration, resolves the target and prepares TLS: every error that can be
    /// known before the first connect is thrown here.
    public init(config: LoadSpec, clock: any MonotonicClock = SystemMonotonicClock()) throws {
        let compiled = try config.validate()
        self.config = config
        self.clock = clock
        let workload = try Workload(config, compiled: compiled)
        self.workload = workload
        endpoints = try workload.origins.map { origin in
            let addresses = try SocketAddress.resolve(host: origin.host, port: origin.port)
            // A name with several addresses (localhost as ::1 and 127.0.0.1, a server listening on
            // one): the first that accepts, else the first (the run then says why it cannot connect).
            let address = addresses.count > 1
                ? TCPSocket.firstAccepting(addresses, timeoutMs: Int32(Swift.min(config.timeoutMs, 1_000))) ?? addresses[0] : addresses[0]
            return Endpoint(address: address, serverName: origin.bareHost, isTLS: origin.isTLS)
        }
        sources = try Self.bindableSources(config.sourceAddresses, family: endpoints.first?.address.family)
        // Each connection may hold a socket per origin.
        let sockets = config.connections * workload.origins.count
        notes = [EphemeralPorts.current()?.crowdingNote(socketsPerAddress: sockets / Swift.max(1, sources.count))].compactMap { $0 }
        tlsContext = workload.origins.contains(where: \.isTLS) ? try TLSContext(verify: !config.insecure, caFile: config.caFile) : nil
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

    /// Connects in flight at once over all threads: below the SYN backlog of a default Linux
    /// server (`somaxconn` 4096, SYN backlog 1024-2048), far above what loopback needs.
    public static let connectsInFlight = 512

    /// Runs the test on the calling thread's behalf and returns when every worker is done: first
    /// the connect phase (every connection opened, at most `connectsInFlight` at a time), then the
    /// measured schedule, from `startAtWallMs` when given (a distributed test's start: connecting
    /// runs before it) or as soon as every connection is open.
    /// `onConnected` is called on the calling thread when the connect phase has ended,
    /// `onInterval` once per second with the merged figures.
    public func run(startAtWallMs: Int64? = nil, onConnected: (ConnectPhase) -> Void = { _ in },
                    onInterval: (IntervalReport) -> Void = { _ in }) throws -> LoadResult {
        let threads = Swift.min(config.threads, config.connections)
        let sink = IntervalSink()
        let results = Mutex<[WorkerResult?]>(Array(repeating: nil, count: threads))
        let done = DispatchGroup()
        let runStart = clock.nanoseconds()
        // A given wall-clock start on this host's monotonic clock (now, if it has passed: the run
        // is then late by that much before it even begins).
        let ahead = startAtWallMs.map { (Double($0) - Date().timeIntervalSince1970 * 1000) * 1e6 } ?? 0
        let gate = StartGate(workers: threads, start: startAtWallMs == nil ? nil : runStart + UInt64(Swift.max(0, ahead)))
        let connectLimit = Swift.max(1, Self.connectsInFlight / threads)
        let budgets = split(total: { if case .requests(let n) = config.stop { return n } else { return Int.max } }(), into: threads)
        let connectionCounts = split(total: config.connections, into: threads)
        var offset = 0
        for t in 0..<threads {
            let connectionOffset = offset
            offset += connectionCounts[t]
            done.enter()
            let thread = Thread { [self] in
                defer { done.leave() }
                let result = self.runWorker(thread: t, connections: connectionCounts[t], connectionOffset: connectionOffset,
                                            budget: budgets[t], connectLimit: connectLimit, gate: gate, sink: sink)
                results.withLock { $0[t] = result }
            }
            thread.name = "stampede-reactor-\(t)"
            thread.start()
        }

        // Merge per-second samples as they come: second k is reported once every thread sent it
        // (or finished before reaching it).
        var pending: [Int: (count: Int, figures: Figures, connections: Int)] = [:]
        var finishedAt: [Int: Int] = [:]  // thread -> index of its final sample
        var intervalCount = 0
        var nextSecond = 1
        func absorb(_ samples: [IntervalSample]) throws {
            for s in samples {
                var entry = pending.removeValue(forKey: s.index) ?? (0, Figures(), 0)
                entry.connections += s.connections
                entry.count += 1
                try entry.figures.add(s.figures)
                pending[s.index] = entry
                if s.final { finishedAt[s.thread] = s.index }
            }
            while let entry = pending[nextSecond] {
                let expected = (0..<threads).filter { finishedAt[$0].map { $0 >= nextSecond } ?? true }.count
                guard entry.count >= expected else { break }
                let report = IntervalReport(t: nextSecond, figures: entry.figures, connections: entry.connections,
                                            targetRate: targetRate(second: nextSecond),
                                            targetConnections: config.mode == .avalanche ? config.stages?.target(at: Double(nextSecond)) : nil)
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

        var figures = Figures()
        var firstError: String?
        var firstCheckFailure: String?
        var unsentPerSecond: [Int] = []
        var sockets = 0
        var busiest = 0.0
        for case let r? in results.withLock({ $0 }) {
            if let error = r.setupError { throw error }
            sockets += r.peakSockets
            busiest = Swift.max(busiest, r.busy)
            try figures.add(r.figures)
            firstError = firstError ?? r.firstError
            firstCheckFailure = firstCheckFailure ?? r.firstCheckFailure
            unsentPerSecond = addedPerSecond(unsentPerSecond, r.unsentPerSecond)
        }
        let lastEnd = results.withLock { $0.compactMap { $0?.endedAt }.max() } ?? end
        let startAt = gate.open(at: end)
        let firstBegin = results.withLock { $0.compactMap { $0?.beganAt }.filter { $0 > 0 }.min() } ?? startAt
        // Signed: a run that failed before its given start ends before it.
        func seconds(from a: UInt64, to b: UInt64) -> Double { Double(Int64(bitPattern: b &- a)) / 1e9 }
        let startedAt = Date(timeIntervalSinceNow: -seconds(from: startAt, to: clock.nanoseconds()))
        return LoadResult(config: config, startedAt: startedAt, duration: Swift.max(0, seconds(from: startAt, to: lastEnd)),
                          figures: figures, intervalCount: intervalCount,
                          firstError: firstError, firstCheckFailure: firstCheckFailure, unsentPerSecond: unsentPerSecond, interrupted: interruptedFlag.load(ordering: .relaxed),
                          seed: workload.seed, sockets: sockets, connectPhase: phase,
                          startLag: Swift.max(0, seconds(from: startAt, to: firstBegin)) + Swift.max(0, -ahead) / 1e9,
                          busiest: busiest)
    }

    /// `--source-addrs`, each checked now (the target's address family, and a socket binds to
    /// it), so an address this host does not have fails before the test instead of every connect.
    private static func bindableSources(_ addresses: [String], family: Int32?) throws -> [SocketAddress] {
        try addresses.map { text throws -> SocketAddress in
            let address: SocketAddress
            do throws(AddressError) { address = try SocketAddress.resolve(host: text, port: 0)[0] } catch {
                throw ConfigError(.sourceAddrs, "'\(text)' is not an address of this host: \(error.reason)")
            }
            if let family, address.family != family {
                throw ConfigError(.sourceAddrs, "\(text) is not of the target's address family (IPv4 vs IPv6)")
            }
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            defer { if fd >= 0 { close(fd) } }
            guard fd >= 0, address.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
                throw ConfigError(.sourceAddrs, "cannot bind \(text): \(String(cString: strerror(errno))) (add it to an interface, e.g. ip addr add)")
            }
            return address
        }
    }

    /// Tsunami: the requests intended in second `t` (1-based) of this run.
    private func targetRate(second t: Int) -> Double? {
        guard config.mode == .tsunami else { return nil }
        if let profile = config.stages { return profile.integral(to: Double(t)) - profile.integral(to: Double(t - 1)) }
        switch config.pacing {
        case .rate(let r): return r
        case .delayMs(let ms): return Double(config.connections) * 1000 / ms
        case nil: return nil
        }
    }

    private struct WorkerResult: @unchecked Sendable {
        var figures = Figures()
        var peakSockets = 0
        var busy = 0.0
        var firstError: String?
        var firstCheckFailure: String?
        var unsentPerSecond: [Int] = []
        var beganAt: UInt64 = 0
        var endedAt: UInt64 = 0
        var setupError: Error?
    }

    private func runWorker(thread t: Int, connections: Int, connectionOffset: Int, budget: Int,
                           connectLimit: Int, gate: StartGate, sink: IntervalSink) -> WorkerResult {
        var result = WorkerResult()
        // A worker that could not start has no phase: report an empty one, so nobody waits for it.
        defer { gate.report(worker: t, WorkerPhase(endedAt: clock.nanoseconds())) }
        do {
            if config.pinThreads {
                try pinCurrentThread(to: t % ProcessInfo.processInfo.activeProcessorCount)
            }
            let cpuStart = threadCPUSeconds(), wallStart = clock.nanoseconds()
            defer { result.busy = (threadCPUSeconds() - cpuStart) / Swift.max(Double(clock.nanoseconds() - wallStart) / 1e9, 1e-9) }
            let reactor = try Reactor()
            let worker = Worker(reactor: reactor, config: config, endpoints: endpoints, sources: sources, tlsContext: tlsContext,
                                workload: workload, connections: connections, connectionOffset: connectionOffset,
                                budget: budget, connectLimit: connectLimit, gate: gate, sink: sink, threadIndex: t, clock: clock)
            reactor.onWakeup = { [unowned worker, self] in
                if self.interruptedFlag.load(ordering: .relaxed) { worker.beginStopping() }
                worker.scheduleBegin()
            }
            remotes.withLock { $0.append(reactor.remote) }
            if interruptedFlag.load(ordering: .relaxed) { worker.interruptBeforeStart() }
            worker.start()
            try reactor.run()
            let figures = worker.figures
            result.figures = figures.published
            result.peakSockets = figures.peakSockets
            result.beganAt = figures.beganAt
            result.firstError = figures.firstError
            result.firstCheckFailure = figures.firstCheckFailure
            result.unsentPerSecond = worker.schedule.unsentPerSecond
        } catch {
            result.setupError = error
        }
        result.endedAt = clock.nanoseconds()
        return result
    }
}

/// Where one origin's sockets connect: its address (resolved once, before the run) and TLS name.
struct Endpoint: Sendable {
    let address: SocketAddress
    let serverName: String
    let isTLS: Bool
}

/// Splits `total` into `parts` shares differing by at most one (Int.max stays Int.max each).
func split(total: Int, into parts: Int) -> [Int] {
    if total == Int.max { return Array(repeating: Int.max, count: parts) }
    return (0..<parts).map { total / parts + ($0 < total % parts ? 1 : 0) }
}
