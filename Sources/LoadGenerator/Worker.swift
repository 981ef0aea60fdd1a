import Histogram
import HTTP1
import Reactor
import Sessions
import StampedeModel
import TLS

/// One reactor thread's share of a load run: an executor. Its `schedule` decides when work
/// starts, each connection's `machine` what its socket does; the worker carries their decisions
/// out on sockets and timers and counts what happens in `figures` (plain values, no atomics:
/// nothing here is shared while the run goes on). Built and used on its thread.
final class Worker: ReactorHandler, ReactorTimerHandler {
    /// Where the worker is in its run.
    enum Lifecycle: Equatable {
        /// Opening connections; `startArmed`: the gate knows the schedule's start, and a timer
        /// will begin it.
        case connecting(startArmed: Bool)
        /// The measured schedule runs.
        case running
        /// No new requests; those in flight finish. `begun`: the schedule had started.
        case stopping(begun: Bool)
    }

    let reactor: Reactor
    let config: LoadSpec
    /// Where each origin's sockets connect (`Connection.origin` indexes it).
    let endpoints: [Endpoint]
    let tlsContext: TLSContext?
    let workload: Workload
    /// `workload.programs`' per-request facts, by the same index (plain values: no reference
    /// counting to read them).
    let facts: UnsafeMutableBufferPointer<ProgramFacts>
    /// Global index of this worker's first connection (`{{conn}}`, tsunami staggering).
    let connectionOffset: Int
    var random: SplitMix64
    /// The read buffer, and where bytes are rendered (a hop, a cookie line, an `expect_body`).
    var buffers = WorkerBuffers()
    /// Each request's captures, compiled for this thread (nil: the request captures nothing).
    let captureRunners: [CaptureRunner?]
    /// Each connection's header recorder (the connections refer to them unretained).
    let recorders: [HeaderRecorder]
    let timeoutNs: UInt64
    /// The measured schedule's start is shared by a run's workers through the gate.
    let gate: StartGate
    let sink: IntervalSink
    let threadIndex: Int
    /// Where the worker sits in the run: its scenario (index into the run's), its place among
    /// all workers of all scenarios (the gate's and the samples' index), when its scenario's
    /// schedule begins after the test's start, and the thread's other workers.
    let place: WorkerPlace
    /// The test's start (monotonic ns): seconds are counted from it, whatever the scenario.
    var intervalOrigin: UInt64 = 0
    let clock: any MonotonicClock
    /// `clock` is the system's: the request path reads CLOCK_MONOTONIC directly (`now()`),
    /// without the existential's indirection (about 30 instructions a read, two a request).
    let usesSystemClock: Bool
    /// Connections by index, allocated once (a raw buffer: no copy-on-write or exclusivity
    /// bookkeeping on the per-request path).
    let conns: UnsafeMutableBufferPointer<Connection>
    /// Connections still in the run (the run ends when none is).
    var active: Int
    var lifecycle = Lifecycle.connecting(startArmed: false)
    var schedule: Schedule
    var connects: ConnectQueue
    var figures: WorkerFigures
    /// The worker's registrations with the reactor: for its sockets, and for its timers.
    var ids = (handler: 0, timer: 0)
    /// Steering: changes of this worker's scenario not applied yet (in order), and how much of
    /// the run's list it has looked at.
    var pendingChanges: [TimedChange] = []
    var changesSeen = 0

    static let tickToken = -1
    static let intervalToken = -2
    static let beginToken = -3
    static let arrivalToken = -4
    static let changeToken = -5
    static let idleBufferReleaseNs: UInt64 = 20_000_000
    static let generationBits = 20

    /// - Parameters:
    ///   - connectionOffset: global index of this worker's first connection (staggers tsunami starts).
    ///   - budget: requests this worker may send (`Int.max` for a timed run).
    ///   - connectLimit: connects in flight at once.
    init(reactor: Reactor, config: LoadSpec, endpoints: [Endpoint], sources: [SocketAddress], tlsContext: TLSContext?, workload: Workload,
         connections: Int, connectionOffset: Int, budget: Int, sessionBudget: Int = .max, connectLimit: Int, gate: StartGate, sink: IntervalSink, threadIndex: Int,
         place: WorkerPlace = WorkerPlace(), clock: any MonotonicClock = SystemMonotonicClock()) {
        self.reactor = reactor
        self.config = config
        self.endpoints = endpoints
        self.tlsContext = tlsContext
        self.workload = workload
        facts = .allocate(capacity: workload.programs.count)
        _ = facts.initialize(from: workload.programs.map(ProgramFacts.init))
        self.connectionOffset = connectionOffset
        random = workload.random(thread: threadIndex)
        figures = WorkerFigures(names: workload.tracksNames ? workload.names : [], sessions: workload.sessions, serviceTime: config.mode == .tsunami)
        timeoutNs = UInt64(config.timeoutMs) * 1_000_000
        schedule = Schedule(config, connections: connections, offset: connectionOffset, budget: budget, sessionBudget: sessionBudget,
                            timeoutNs: timeoutNs)
        connects = ConnectQueue(limit: connectLimit, sources: sources)
        self.gate = gate
        self.sink = sink
        self.threadIndex = threadIndex
        self.place = place
        self.clock = clock
        usesSystemClock = clock is SystemMonotonicClock
        conns = .allocate(capacity: connections)
        var blank = Connection(timeoutNs: timeoutNs)
        if workload.origins.count > 1 { blank.parked = Array(repeating: Transport(), count: workload.origins.count) }
        conns.initialize(repeating: blank)
        recorders = workload.recordedHeaders.isEmpty ? [] : conns.indices.map { _ in HeaderRecorder(names: workload.recordedHeaders) }
        for i in recorders.indices {
            conns[i].recorder = recorders[i]
            conns[i].recorderRef = .passUnretained(recorders[i])
        }
        if workload.variableCount > 0 {
            for i in conns.indices { conns[i].variables = Array(repeating: ByteStore(), count: workload.variableCount) }
        }
        // Regexes are compiled per thread (a compiled Regex is not shared between threads).
        captureRunners = workload.programs.map { $0.captures.isEmpty ? nil : CaptureRunner($0.captures) }
        active = connections
        if let wanted = schedule.initiallyWanted {
            for i in conns.indices where i >= wanted { _ = conns[i].machine.rest() }
        }
    }

    deinit {
        for i in conns.indices { conns[i].render.free() }
        buffers.free()
        conns.deinitialize()
        conns.deallocate()
        facts.deallocate()
    }

    /// How often deadlines are checked: a tenth of the timeout, within 1 ms to 100 ms.
    var tickNs: UInt64 { Swift.min(Swift.max(timeoutNs / 10, 1_000_000), 100_000_000) }

    var isStopping: Bool {
        if case .stopping = lifecycle { true } else { false }
    }

    /// Registers with the reactor and opens every connection (the connect phase); the schedule
    /// begins when the gate says.
    func start() {
        ids.handler = reactor.addHandler(self)
        ids.timer = reactor.addTimerHandler(self)
        let now = clock.nanoseconds()
        reactor.schedule(at: now + tickNs, handler: ids.timer, token: Self.tickToken)
        if conns.isEmpty || schedule.budget == 0 { finish(); return }
        beginConnectPhase(now: now)
        scheduleBegin()
    }

    /// Ends the run before it started (the run was interrupted while setting up).
    func interruptBeforeStart() {
        lifecycle = .stopping(begun: false)
    }

    // MARK: Lifecycle of one connection

    /// The connection is ready for its next request: the schedule says whether it sends now,
    /// waits for its slot or an arrival, rests, or retires; a session's think time comes first.
    func proceed(_ i: Int, now: UInt64) {
        switch lifecycle {
        case .connecting: parkReady(i); return
        case .stopping: retire(i); return
        case .running: break
        }
        if schedule.isPastEnd(now) {
            beginStopping()
            retire(i)
            return
        }
        let hasSession = conns[i].inSession || conns[i].sessionArrival != 0
        switch schedule.turn(connection: i, nextSend: conns[i].nextSend, hasSession: hasSession, hop: conns[i].hopPending, now: now) {
        case .send: break
        case .retire: retire(i); return
        case .rest: rest(i); return
        case .awaitArrival: becomeFree(i, now: now); return
        case .hold:
            // Paused: the socket stays; a resume (or the end's tick) moves it on.
            conns[i].machine.wait(until: .max)
            return
        case .wait(let until):
            // Idle for a while: OpenSSL's record buffers go back until the next request
            // (thousands of paced TLS connections would otherwise hold 32 KiB each).
            if until - now >= Self.idleBufferReleaseNs { conns[i].transport.tls?.releaseBuffers() }
            conns[i].machine.wait(until: until)
            // A paced run paused with no end: no slot is due until the resume wakes it.
            if until != .max { setTimer(i, at: until) }
            return
        }
        if conns[i].thinkUntil > now {
            // Between a session's requests: the user reads the page (never part of a latency).
            conns[i].machine.wait(until: conns[i].thinkUntil)
            setTimer(i, at: conns[i].thinkUntil)
            return
        }
        conns[i].thinkUntil = 0
        if conns[i].next == nil { chooseRequest(i) }
        if !conns[i].transport.isOpen { connect(i, now: now); return }
        send(i, now: now)
    }

    func send(_ i: Int, now: UInt64) {
        let budgetSpent = schedule.spend()
        figures.second.counters.requests += 1
        if workload.plainResponses {
            conns[i].intendedAt = schedule.isTsunami ? conns[i].nextSend : now
        } else {
            let startsSession = workload.sessions && !conns[i].hopPending && (conns[i].next ?? conns[i].current) == 0
            if startsSession { beginSession(i, now: now) }
            // A hop, and a session's later steps in the open model, go when the response before
            // them ends: timed from then. A session's first request, from its arrival.
            if conns[i].hopPending || (schedule.pacesSessions && !startsSession) {
                conns[i].intendedAt = now
            } else {
                conns[i].intendedAt = schedule.pacesSessions ? conns[i].sessionArrival : schedule.isTsunami ? conns[i].nextSend : now
            }
        }
        conns[i].sentAt = now
        let idempotent = prepareRequest(i)
        if budgetSpent { retireAllIdle(except: i) }
        conns[i].machine.requestStarted(now: now, retryable: idempotent && conns[i].transport.reused)
        conns[i].written = 0
        writeRequest(i, now: now)
    }

    /// A response ended: record it, then go on (the next hop of a redirect, the session's next
    /// step after its think time, or the next request).
    func completed(_ i: Int, status: Int, keepAlive: Bool, now: UInt64) {
        let latencyUs = Int64((now &- conns[i].intendedAt + 500) / 1000)
        figures.second.latency.record(latencyUs)
        if schedule.isTsunami { figures.published.serviceTime?.record(Int64((now &- conns[i].sentAt + 500) / 1000)) }
        if conns[i].parser.recorded { storeCookies(i) }
        if workload.plainResponses {
            // No redirects to follow, no session: the response is counted, and that is all.
            _ = recordResponse(i, status: status, latencyUs: latencyUs, redirect: .none)
            if conns[i].sessionStep { stepSucceeded(i, now: now) }
            recordTimings(i, latencyUs: latencyUs, now: now)
        } else {
            // Records the timings itself, under the name the latency went to (a hop moves it on).
            sessionResponse(i, status: status, latencyUs: latencyUs, now: now)
        }
        conns[i].transport.reused = keepAlive
        if schedule.pacesRequests && !conns[i].hopPending { advanceSchedule(i) }
        // After the first response the server's TLS 1.3 tickets have arrived.
        conns[i].transport.saveSessionIfDue()
        if !keepAlive { closeSocket(i, clean: true) }
        proceed(i, now: now)
    }

    /// Counts a failure by kind, drops the socket and carries on (reconnecting after the
    /// machine's backoff). A resent request whose new connection fails is lost with it.
    func failed(_ i: Int, _ kind: Failure, lostRequest: Bool, connect end: ConnectionStateMachine.ConnectEnd?,
                next: ConnectionStateMachine.AfterFailure, now: UInt64) {
        kind.count(into: &figures.second.counters.errors)
        conns[i].firstByteAt = 0
        if lostRequest {
            recordFailureByName(i, kind)
            failSession(i, .transport(kind))
            conns[i].hops = 0
            conns[i].hopPending = false
        }
        if let end { connectEnded(i, end, now: now) }
        closeSocket(i)
        if lostRequest && schedule.pacesRequests { advanceSchedule(i) }
        switch next {
        case .proceed: proceed(i, now: now)
        case .reconnect(let at):
            if UnreachableTarget.isEvident(figures.totals, connections: schedule.sendingConnections ?? conns.count) { beginStopping(); return }
            if isStopping || schedule.budget == 0 { retire(i); return }
            setTimer(i, at: at)
        }
    }

    /// Moves a paced connection to its next slot.
    @inline(__always)
    func advanceSchedule(_ i: Int) {
        conns[i].scheduled += 1
        conns[i].nextSend = schedule.sendTime(connection: i, scheduled: conns[i].scheduled)
    }

    func closeSocket(_ i: Int, clean: Bool = false) {
        guard conns[i].transport.isOpen else { return }
        conns[i].transport.close(on: reactor, clean: clean)
        figures.openSockets -= 1
    }

    /// The connection is done. An established socket stays open until the run ends: closing
    /// thousands while others still send puts their FINs and the server's closes into the
    /// measured seconds (15,000 connections closing in a 3 s run's last second raised its p50
    /// from 0.08 to 20-40 ms). A connect (or handshake) in flight is abandoned now, giving its
    /// slot to a queued connection. Its slots due before the end and never sent are `unsent`.
    func retire(_ i: Int) {
        guard let abandoned = conns[i].machine.retire() else { return }
        figures.second.counters.unsent += schedule.retired(connection: i, scheduled: conns[i].scheduled)
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
        switch lifecycle {
        case .stopping: return
        case .running: lifecycle = .stopping(begun: true)
        case .connecting: lifecycle = .stopping(begun: false)
        }
        retireAllIdle()
    }

    func finish() {
        endConnectPhase(now: clock.nanoseconds())
        if workload.sessions { interruptSessions() }
        figures.second.counters.sessions.dropped += schedule.dropWaiting()
        publishInterval(final: true)
        for i in conns.indices {
            closeSocket(i)
            closeParked(i)
        }
        figures.endedAt = clock.nanoseconds()
        place.thread.workerFinished(reactor)
    }

    /// Keeps the run's first error text (built only then: failures can come by the thousand).
    func noteFirstError(_ text: @autoclosure () -> String) {
        figures.noteFirstError(text())
    }
}
