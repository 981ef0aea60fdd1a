import Histogram
import HTTP1
import Reactor
import StampedeModel
import TLS

/// One reactor thread's share of a load run: its connections, its counters and its histograms
/// (plain, no atomics: nothing here is shared while the run goes on). Built and used on its thread.
final class Worker: ReactorHandler, ReactorTimerHandler {
    let reactor: Reactor
    let config: LoadSpec
    /// Where each origin's sockets connect (`Connection.origin` indexes it).
    let endpoints: [Endpoint]
    /// Local addresses new sockets bind to, round-robin (`--source-addrs`; empty: the kernel's choice).
    let sources: [SocketAddress]
    var nextSource = 0
    let tlsContext: TLSContext?
    let workload: Workload
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Global index of this worker's first connection (`{{conn}}`, tsunami staggering).
    let connectionOffset: Int
    var random: SplitMix64
    /// Holds a templated body while its length is measured.
    var scratch = RenderBuffer()
    let timeoutNs: UInt64
    let tickNs: UInt64
    /// Tsunami: sends on a schedule, each timed from its intended send. At a constant pace
    /// `intervalNs` apart per connection; with stages, from the integral of the rate (`schedule`).
    let paced: Bool
    let intervalNs: UInt64?
    let schedule: StageProfile?
    /// Avalanche stages: the connection count follows this target (per driver).
    let ramp: StageProfile?
    /// Of this worker's connections, how many the ramp wants open now.
    var wanted: Int
    /// The measured schedule: its start (from the gate, once the connect phase allows) and end.
    let gate: StartGate
    var begun = false
    var beginScheduled = false
    var beganAt: UInt64 = 0
    var startAt: UInt64 = 0
    var stopAt: UInt64?
    let sink: IntervalSink
    let threadIndex: Int

    /// Connections by index, allocated once (a raw buffer: no copy-on-write or exclusivity
    /// bookkeeping on the per-request path).
    let conns: UnsafeMutableBufferPointer<Connection>
    var remainingBudget: Int
    var active: Int
    var stopping = false
    /// Counters of the seconds already published; the current second counts in
    /// `intervalCounters` and is folded in when it is published.
    var counters = LoadCounters()
    var intervalCounters = LoadCounters()
    /// Everything counted so far.
    var totals: LoadCounters { counters + intervalCounters }
    /// Latency from the intended send time (equal to service time in avalanche).
    var latency = HDRHistogram()
    /// Uncorrected service time: from the actual write to the response's end.
    var serviceTime = HDRHistogram()
    var intervalLatency = HDRHistogram()
    /// A list of requests: the current second's figures and the published ones, per name.
    var nameInterval: [NamedFigures]
    var nameTotals: [NamedFigures]
    var intervalIndex = 0
    var firstError: String?
    /// Sockets open now and at most (a test with several origins opens one per origin a
    /// connection needs).
    var openSockets = 0
    var peakSockets = 0
    var handlerID = 0
    var timerID = 0
    /// Connects in flight (at most `connectLimit`), and the connections waiting for a slot
    /// (a queue read from `queueHead`).
    let connectLimit: Int
    var connectsInFlight = 0
    var connectQueue: [Int] = []
    var queueHead = 0
    var startingQueued = false
    /// The connect phase: first connects not yet ended, and what it measured.
    var phasePending = 0
    var phaseEnded = false
    var phase = WorkerPhase()

    static let tickToken = -1
    static let intervalToken = -2
    static let beginToken = -3
    static let lateSlotGraceNs: UInt64 = 1_000_000_000
    static let idleBufferReleaseNs: UInt64 = 20_000_000
    static let generationBits = 20

    /// - Parameters:
    ///   - connectionOffset: global index of this worker's first connection (staggers tsunami starts).
    ///   - budget: requests this worker may send (`Int.max` for a timed run).
    ///   - connectLimit: connects in flight at once.
    init(reactor: Reactor, config: LoadSpec, endpoints: [Endpoint], sources: [SocketAddress], tlsContext: TLSContext?, workload: Workload,
         connections: Int, connectionOffset: Int, budget: Int, connectLimit: Int, gate: StartGate, sink: IntervalSink, threadIndex: Int) {
        self.reactor = reactor
        self.config = config
        self.endpoints = endpoints
        self.sources = sources
        self.tlsContext = tlsContext
        self.workload = workload
        self.connectionOffset = connectionOffset
        random = workload.random(thread: threadIndex)
        let names = workload.tracksNames ? workload.names.map { NamedFigures(name: $0) } : []
        nameInterval = names
        nameTotals = names
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 64)
        timeoutNs = UInt64(config.timeoutMs) * 1_000_000
        tickNs = Swift.min(Swift.max(timeoutNs / 10, 1_000_000), 100_000_000)
        paced = config.mode == .tsunami
        intervalNs = paced ? config.intervalNs : nil
        schedule = paced ? config.stages : nil
        ramp = paced ? nil : config.stages
        self.gate = gate
        self.connectLimit = connectLimit
        self.sink = sink
        self.threadIndex = threadIndex
        conns = .allocate(capacity: connections)
        var blank = Connection()
        if workload.origins.count > 1 { blank.parked = Array(repeating: ParkedSocket(), count: workload.origins.count) }
        conns.initialize(repeating: blank)
        remainingBudget = budget
        active = connections
        wanted = connections
        if let ramp {
            wanted = wantedConnections(ramp, at: 0)
            for i in conns.indices where i >= wanted { conns[i].state = .dormant }
        }
    }

    deinit {
        for i in conns.indices { conns[i].render.free() }
        scratch.free()
        conns.deinitialize()
        conns.deallocate()
        readBuffer.deallocate()
    }

    /// Registers with the reactor and opens every connection (the connect phase); the schedule
    /// begins when the gate says.
    func start() {
        handlerID = reactor.addHandler(self)
        timerID = reactor.addTimerHandler(self)
        let now = monotonicNanoseconds()
        reactor.schedule(at: now + tickNs, handler: timerID, token: Self.tickToken)
        if conns.isEmpty || remainingBudget == 0 { finish(); return }
        beginConnectPhase(now: now)
        scheduleBegin()
    }

    // MARK: Lifecycle of one connection

    /// The connection is ready for its next request: send, wait for its slot, connect, or retire.
    func proceed(_ i: Int, now: UInt64) {
        // A resent request is still in flight: it finishes whatever the budget or the clock say.
        if conns[i].retrying {
            if conns[i].fd < 0 { startConnect(i, now: now) } else { resend(i, now: now) }
            return
        }
        guard begun else {
            if stopping { retire(i) } else { parkReady(i) }
            return
        }
        if pastEnd(now) { beginStopping() }
        if stopping || remainingBudget == 0 { retire(i); return }
        if ramp != nil && i >= wanted { rest(i); return }
        if paced {
            // A slot at or after the end of a timed run is not part of it (even when the
            // response before it ended late).
            if let stopAt, conns[i].nextSend >= stopAt { retire(i); return }
            if conns[i].nextSend > now {
                // Idle for a while: OpenSSL's record buffers go back until the next request
                // (thousands of paced TLS connections would otherwise hold 32 KiB each).
                if conns[i].nextSend - now >= Self.idleBufferReleaseNs { conns[i].tls?.releaseBuffers() }
                conns[i].state = .waiting
                setTimer(i, at: conns[i].nextSend)
                return
            }
        }
        if !conns[i].chosen { chooseRequest(i) }
        if conns[i].fd < 0 { connect(i, now: now); return }
        send(i, now: now)
    }

    func send(_ i: Int, now: UInt64) {
        remainingBudget -= 1
        intervalCounters.requests += 1
        conns[i].intendedAt = paced ? conns[i].nextSend : now
        conns[i].sentAt = now
        prepareRequest(i)
        if remainingBudget == 0 { retireAllIdle(except: i) }
        beginWrite(i, now: now)
    }

    /// The prepared request goes out: its response deadline runs from now.
    private func beginWrite(_ i: Int, now: UInt64) {
        conns[i].deadline = now + timeoutNs
        conns[i].written = 0
        conns[i].responseStarted = false
        conns[i].state = .writing
        writeRequest(i, now: now)
    }

    /// Whether a request that lost its connection can be resent: idempotent, on a reused
    /// connection, before any byte of its response, and not resent already.
    func canRetryStale(_ i: Int) -> Bool {
        workload.programs[conns[i].current].idempotent && conns[i].reused && !conns[i].responseStarted && !conns[i].retrying
    }

    /// The server closed a reused connection as the request went out: reconnect and send the same
    /// request again. It is one request (counted once), timed from its original intended send.
    func retryStale(_ i: Int, now: UInt64) {
        intervalCounters.retriedStale += 1
        closeSocket(i)
        conns[i].retrying = true
        conns[i].state = .closed
        startConnect(i, now: now)
    }

    /// Writes the request again on the fresh connection (`retrying`): no new budget or count; its
    /// service time keeps the first send, so the reconnect the user waited for is in it.
    func resend(_ i: Int, now: UInt64) {
        conns[i].retrying = false
        resetParser(i)
        beginWrite(i, now: now)
    }

    /// Opens the socket now, holding a connect slot until `connectEnded`.
    func startConnect(_ i: Int, now: UInt64) {
        conns[i].connectStartedAt = Swift.max(now, 1)
        connectsInFlight += 1
        do {
            var source: SocketAddress?
            if !sources.isEmpty {
                source = sources[nextSource]
                nextSource = nextSource + 1 == sources.count ? 0 : nextSource + 1
            }
            let (fd, inProgress) = try TCPSocket.connect(to: address(i), from: source)
            conns[i].fd = fd
            socketOpened()
            conns[i].state = .connecting
            conns[i].deadline = now + timeoutNs
            conns[i].interest = inProgress ? .writable : .readable
            try reactor.register(fd: fd, events: conns[i].interest, handler: handlerID, token: i)
            if !inProgress { connected(i, now: now) }
        } catch {
            noteFirstError("connect to \(address(i)): \(error)")
            fail(i, .connect, now: now)
        }
    }

    func connected(_ i: Int, now: UInt64) {
        let err = TCPSocket.pendingError(conns[i].fd)
        guard err == 0 else {
            noteFirstError(IOError(errno: err, operation: "connect", context: address(i).description).description)
            fail(i, .connect, now: now)
            return
        }
        guard endpoints[conns[i].origin].isTLS, let tlsContext else {
            established(i, now: now)
            conns[i].deadline = 0
            // Level-triggered: a connected socket is always writable, and may wait for its slot.
            if conns[i].interest != .readable { setInterest(i, .readable) }
            proceed(i, now: now)
            return
        }
        do {
            conns[i].tls = try TLSStream(context: tlsContext, fd: conns[i].fd, serverName: endpoints[conns[i].origin].serverName,
                                         resume: conns[i].session)
            conns[i].state = .handshaking
            handshake(i, now: now)
        } catch {
            noteFirstError("\(error)")
            fail(i, .tls, now: now)
        }
    }

    /// TCP (and TLS) is up. Only now does the target count as reachable: a certificate that fails
    /// verification must end the run as surely as a refused connect.
    func established(_ i: Int, now: UInt64) {
        intervalCounters.connects += 1
        conns[i].connectFailures = 0
        connectEnded(i, .established, now: now)
    }

    /// A response ended: record it, then go on.
    func completed(_ i: Int, status: Int, keepAlive: Bool, now: UInt64) {
        let latencyUs = Int64((now &- conns[i].intendedAt + 500) / 1000)
        latency.record(latencyUs)
        intervalLatency.record(latencyUs)
        if paced { serviceTime.record(Int64((now &- conns[i].sentAt + 500) / 1000)) }
        recordResponse(i, status: status, latencyUs: latencyUs)
        conns[i].deadline = 0
        conns[i].reused = keepAlive
        if paced { advanceSchedule(i) }
        if conns[i].saveSession, let tls = conns[i].tls {
            // After the first response the server's TLS 1.3 tickets have arrived.
            conns[i].session = tls.savedSession()
            conns[i].saveSession = false
        }
        if !keepAlive {
            conns[i].tls?.markCleanClose()
            closeSocket(i)
        }
        proceed(i, now: now)
    }

    /// Counts a failure by kind, drops the socket and carries on (reconnecting). A resent
    /// request whose new connection fails is lost with it: that failure is its error.
    func fail(_ i: Int, _ kind: Failure, now: UInt64) {
        let inFlight = conns[i].state == .writing || conns[i].state == .reading || conns[i].retrying
        conns[i].retrying = false
        kind.count(into: &intervalCounters.errors)
        if inFlight { recordFailureByName(i, kind) }
        if kind == .connect || kind == .tls { connectEnded(i, .failed, now: now) }
        closeSocket(i)
        conns[i].deadline = 0
        if inFlight && paced { advanceSchedule(i) }
        if kind == .connect || kind == .tls {
            conns[i].connectFailures += 1
            let totals = totals
            if totals.connects == 0 && totals.errors.connect >= Swift.max(10, 3 * conns.count) {
                // Nothing ever connected: the target is unreachable; say so instead of spinning.
                beginStopping()
                return
            }
            if totals.tlsHandshakes == 0 && totals.errors.tls >= conns.count {
                // Every connection failed its handshake and none ever succeeded: a wrong scheme or
                // certificate will not fix itself; end the run with the reason.
                beginStopping()
                return
            }
            if stopping || remainingBudget == 0 { retire(i); return }
            conns[i].state = .backoff
            let backoff = UInt64(Swift.min(conns[i].connectFailures, 50)) * 10_000_000
            setTimer(i, at: now + backoff)
            return
        }
        conns[i].state = .closed
        proceed(i, now: now)
    }

    func closeSocket(_ i: Int) {
        if conns[i].connectStartedAt != 0 { connectEnded(i, .abandoned, now: monotonicNanoseconds()) }
        guard conns[i].fd >= 0 else { return }
        conns[i].tls = nil
        reactor.close(fd: conns[i].fd)
        openSockets -= 1
        conns[i].fd = -1
        conns[i].interest = []
        conns[i].reused = false
    }

    /// The connection is done. An established socket stays open until the run ends: closing
    /// thousands while others still send puts their FINs and the server's closes into the
    /// measured seconds (15,000 connections closing in a 3 s run's last second raised its p50
    /// from 0.08 to 20-40 ms). A connect (or handshake) in flight is abandoned now: `closeSocket`
    /// gives its slot to a queued connection.
    func retire(_ i: Int) {
        guard conns[i].state != .retired else { return }
        if conns[i].connectStartedAt != 0 { closeSocket(i) }
        conns[i].state = .retired
        conns[i].deadline = 0
        active -= 1
        if active == 0 { finish() }
    }

    /// Retires every connection with no request in flight (the budget is spent or time is up).
    func retireAllIdle(except skip: Int = -1) {
        for j in conns.indices where j != skip && !conns[j].retrying {
            switch conns[j].state {
            case .writing, .reading, .retired: continue
            default: retire(j)
            }
        }
    }

    func beginStopping() {
        guard !stopping else { return }
        stopping = true
        retireAllIdle()
    }

    func finish() {
        endConnectPhase(now: monotonicNanoseconds())
        publishInterval(final: true)
        for i in conns.indices {
            closeSocket(i)
            closeParked(i)
        }
        reactor.stop()
    }

    /// Keeps the run's first error text (built only then: failures can come by the thousand).
    func noteFirstError(_ text: @autoclosure () -> String) {
        if firstError == nil { firstError = text() }
    }
}
