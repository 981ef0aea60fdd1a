import Histogram
import HTTP1
import Reactor
import Sessions
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
    /// `workload.programs`' per-request facts, by the same index (plain values: no reference
    /// counting to read them).
    let facts: UnsafeMutableBufferPointer<ProgramFacts>
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Global index of this worker's first connection (`{{conn}}`, tsunami staggering).
    let connectionOffset: Int
    var random: SplitMix64
    /// Holds a templated body while its length is measured.
    var scratch = RenderBuffer()
    /// Where a templated `expect_body` is rendered.
    var expectBuffer = RenderBuffer()
    /// Each request's captures, compiled for this thread (nil: the request captures nothing).
    var captureRunners: [CaptureRunner?] = []
    /// Each connection's header recorder (the connections refer to them unretained).
    var recorders: [HeaderRecorder] = []
    let timeoutNs: UInt64
    let tickNs: UInt64
    /// Tsunami: sends on a schedule, each timed from its intended send. At a constant pace the
    /// driver's n-th slot is due n / `slotsPerSecond` seconds in; with stages, from the integral of
    /// the rate (`schedule`).
    let paced: Bool
    let slotsPerSecond: Double?
    /// Slots due before the end of a timed run, for the whole driver (`intended`; 0: not paced
    /// or not timed), set as the schedule begins; those not sent, by the second they were due.
    var intendedSlots = 0
    var unsentPerSecond: [Int] = []
    let schedule: StageProfile?
    /// Tsunami with a session rate: sessions arrive on the schedule (the open model) and their
    /// requests are not paced (`Worker+Arrivals`).
    let sessionPaced: Bool
    var nextArrival: UInt64 = .max
    var arrivalsScheduled = 0
    /// Arrivals waiting for a free connection (intended times, oldest from `waitingHead`), and
    /// the connections with no session.
    var waitingArrivals: [UInt64] = []
    var waitingHead = 0
    var freeSlots: [Int] = []
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
    let clock: any MonotonicClock
    /// `clock` is the system's: the request path reads CLOCK_MONOTONIC directly (`now()`),
    /// without the existential's indirection (about 30 instructions a read, two a request).
    let usesSystemClock: Bool

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
    /// Sessions' durations: the current second's, and the published ones.
    var sessionInterval = SessionHistograms()
    var sessionTotals = SessionHistograms()
    var intervalIndex = 0
    var firstError: String?
    /// The first response that failed its checks, in words (`first_check_failure`).
    var firstCheckFailure: String?
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
    static let arrivalToken = -4
    static let lateSlotGraceNs: UInt64 = 1_000_000_000
    static let idleBufferReleaseNs: UInt64 = 20_000_000
    static let generationBits = 20

    /// - Parameters:
    ///   - connectionOffset: global index of this worker's first connection (staggers tsunami starts).
    ///   - budget: requests this worker may send (`Int.max` for a timed run).
    ///   - connectLimit: connects in flight at once.
    init(reactor: Reactor, config: LoadSpec, endpoints: [Endpoint], sources: [SocketAddress], tlsContext: TLSContext?, workload: Workload,
         connections: Int, connectionOffset: Int, budget: Int, connectLimit: Int, gate: StartGate, sink: IntervalSink, threadIndex: Int,
         clock: any MonotonicClock = SystemMonotonicClock()) {
        self.reactor = reactor
        self.config = config
        self.endpoints = endpoints
        self.sources = sources
        self.tlsContext = tlsContext
        self.workload = workload
        facts = .allocate(capacity: workload.programs.count)
        _ = facts.initialize(from: workload.programs.map(ProgramFacts.init))
        self.connectionOffset = connectionOffset
        random = workload.random(thread: threadIndex)
        let names = workload.tracksNames ? workload.names.map { NamedFigures(name: $0) } : []
        nameInterval = names
        nameTotals = names
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 64)
        timeoutNs = UInt64(config.timeoutMs) * 1_000_000
        tickNs = Swift.min(Swift.max(timeoutNs / 10, 1_000_000), 100_000_000)
        paced = config.mode == .tsunami
        slotsPerSecond = paced ? config.slotsPerSecond : nil
        schedule = paced ? config.stages : nil
        sessionPaced = paced && config.pacesSessions
        ramp = paced ? nil : config.stages
        self.gate = gate
        self.connectLimit = connectLimit
        self.sink = sink
        self.threadIndex = threadIndex
        self.clock = clock
        usesSystemClock = clock is SystemMonotonicClock
        conns = .allocate(capacity: connections)
        var blank = Connection(timeoutNs: timeoutNs)
        if workload.origins.count > 1 { blank.parked = Array(repeating: Transport(), count: workload.origins.count) }
        conns.initialize(repeating: blank)
        if !workload.recordedHeaders.isEmpty {
            recorders = conns.indices.map { _ in HeaderRecorder(names: workload.recordedHeaders) }
            for i in conns.indices {
                conns[i].recorder = recorders[i]
                conns[i].recorderRef = .passUnretained(recorders[i])
            }
        }
        if workload.variableCount > 0 {
            for i in conns.indices { conns[i].variables = Array(repeating: [], count: workload.variableCount) }
        }
        // Regexes are compiled per thread (a compiled Regex is not shared between threads).
        captureRunners = workload.programs.map { $0.captures.isEmpty ? nil : CaptureRunner($0.captures) }
        remainingBudget = budget
        active = connections
        wanted = connections
        if let ramp {
            wanted = wantedConnections(ramp, at: 0)
            for i in conns.indices where i >= wanted { _ = conns[i].machine.rest() }
        }
    }

    deinit {
        for i in conns.indices { conns[i].render.free() }
        scratch.free()
        expectBuffer.free()
        conns.deinitialize()
        conns.deallocate()
        facts.deallocate()
        readBuffer.deallocate()
    }

    /// Registers with the reactor and opens every connection (the connect phase); the schedule
    /// begins when the gate says.
    func start() {
        handlerID = reactor.addHandler(self)
        timerID = reactor.addTimerHandler(self)
        let now = clock.nanoseconds()
        reactor.schedule(at: now + tickNs, handler: timerID, token: Self.tickToken)
        if conns.isEmpty || remainingBudget == 0 { finish(); return }
        beginConnectPhase(now: now)
        scheduleBegin()
    }

    // MARK: Lifecycle of one connection

    /// The connection is ready for its next request: send, wait for its slot, connect, or retire.
    /// The worker's scheduling: the budget, the pace, the ramp and the end of the run.
    func proceed(_ i: Int, now: UInt64) {
        guard begun else {
            if stopping { retire(i) } else { parkReady(i) }
            return
        }
        if pastEnd(now) { beginStopping() }
        if stopping || remainingBudget == 0 { retire(i); return }
        if ramp != nil && i >= wanted { rest(i); return }
        if sessionPaced && !conns[i].inSession && conns[i].sessionArrival == 0 { becomeFree(i, now: now); return }
        if conns[i].thinkUntil > now {
            // Between a session's requests: the user reads the page (never part of a latency).
            conns[i].machine.wait(until: conns[i].thinkUntil)
            setTimer(i, at: conns[i].thinkUntil)
            return
        }
        conns[i].thinkUntil = 0
        if paced && !sessionPaced && !conns[i].hopPending {
            // A slot at or after the end of a timed run is not part of it (even when the
            // response before it ended late).
            if let stopAt, conns[i].nextSend >= stopAt { retire(i); return }
            if conns[i].nextSend > now {
                // Idle for a while: OpenSSL's record buffers go back until the next request
                // (thousands of paced TLS connections would otherwise hold 32 KiB each).
                if conns[i].nextSend - now >= Self.idleBufferReleaseNs { conns[i].transport.tls?.releaseBuffers() }
                conns[i].machine.wait(until: conns[i].nextSend)
                setTimer(i, at: conns[i].nextSend)
                return
            }
        }
        if conns[i].next == nil { chooseRequest(i) }
        if !conns[i].transport.isOpen { connect(i, now: now); return }
        send(i, now: now)
    }

    func send(_ i: Int, now: UInt64) {
        remainingBudget -= 1
        intervalCounters.requests += 1
        if workload.plainResponses {
            conns[i].intendedAt = paced ? conns[i].nextSend : now
        } else {
            let startsSession = workload.sessions && !conns[i].hopPending && (conns[i].next ?? conns[i].current) == 0
            if startsSession { beginSession(i, now: now) }
            // A hop, and a session's later steps in the open model, go when the response before
            // them ends: timed from then. A session's first request, from its arrival.
            if conns[i].hopPending || (sessionPaced && !startsSession) {
                conns[i].intendedAt = now
            } else {
                conns[i].intendedAt = sessionPaced ? conns[i].sessionArrival : paced ? conns[i].nextSend : now
            }
        }
        conns[i].sentAt = now
        let idempotent = prepareRequest(i)
        if remainingBudget == 0 { retireAllIdle(except: i) }
        conns[i].machine.requestStarted(now: now, retryable: idempotent && conns[i].transport.reused)
        conns[i].written = 0
        writeRequest(i, now: now)
    }

    /// A response ended: record it, then go on (the next hop of a redirect, the session's next
    /// step after its think time, or the next request).
    func completed(_ i: Int, status: Int, keepAlive: Bool, now: UInt64) {
        let latencyUs = Int64((now &- conns[i].intendedAt + 500) / 1000)
        latency.record(latencyUs)
        intervalLatency.record(latencyUs)
        if paced { serviceTime.record(Int64((now &- conns[i].sentAt + 500) / 1000)) }
        if conns[i].parser.recorded { storeCookies(i) }
        if workload.plainResponses {
            // No redirects to follow, no session: the response is counted, and that is all.
            _ = recordResponse(i, status: status, latencyUs: latencyUs, redirect: .none)
            if conns[i].sessionStep { stepSucceeded(i, now: now) }
        } else {
            sessionResponse(i, status: status, latencyUs: latencyUs, now: now)
        }
        conns[i].transport.reused = keepAlive
        if paced && !sessionPaced && !conns[i].hopPending { advanceSchedule(i) }
        // After the first response the server's TLS 1.3 tickets have arrived.
        conns[i].transport.saveSessionIfDue()
        if !keepAlive { closeSocket(i, clean: true) }
        proceed(i, now: now)
    }

    /// Counts a failure by kind, drops the socket and carries on (reconnecting after the
    /// machine's backoff). A resent request whose new connection fails is lost with it.
    func failed(_ i: Int, _ kind: Failure, lostRequest: Bool, connect end: ConnectionStateMachine.ConnectEnd?,
                next: ConnectionStateMachine.AfterFailure, now: UInt64) {
        kind.count(into: &intervalCounters.errors)
        if lostRequest {
            recordFailureByName(i, kind)
            failSession(i, .transport(kind))
            conns[i].hops = 0
            conns[i].hopPending = false
        }
        if let end { connectEnded(i, end, now: now) }
        closeSocket(i)
        if lostRequest && paced && !sessionPaced { advanceSchedule(i) }
        switch next {
        case .proceed: proceed(i, now: now)
        case .reconnect(let at):
            if UnreachableTarget.isEvident(totals, connections: conns.count) { beginStopping(); return }
            if stopping || remainingBudget == 0 { retire(i); return }
            setTimer(i, at: at)
        }
    }

    func closeSocket(_ i: Int, clean: Bool = false) {
        guard conns[i].transport.isOpen else { return }
        conns[i].transport.close(on: reactor, clean: clean)
        openSockets -= 1
    }

    /// The connection is done. An established socket stays open until the run ends: closing
    /// thousands while others still send puts their FINs and the server's closes into the
    /// measured seconds (15,000 connections closing in a 3 s run's last second raised its p50
    /// from 0.08 to 20-40 ms). A connect (or handshake) in flight is abandoned now, giving its
    /// slot to a queued connection.
    func retire(_ i: Int) {
        guard let abandoned = conns[i].machine.retire() else { return }
        if intendedSlots > 0 { countUnsent(i) }
        if let abandoned {
            closeSocket(i)
            connectEnded(i, abandoned, now: clock.nanoseconds())
        }
        active -= 1
        if active == 0 { finish() }
    }

    /// Retires every connection with no request in flight (the budget is spent or time is up).
    func retireAllIdle(except skip: Int = -1) {
        for j in conns.indices where j != skip && !conns[j].machine.hasRequestInFlight { retire(j) }
    }

    func beginStopping() {
        guard !stopping else { return }
        stopping = true
        retireAllIdle()
    }

    func finish() {
        endConnectPhase(now: clock.nanoseconds())
        if workload.sessions { interruptSessions() }
        if sessionPaced { dropWaitingArrivals() }
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
