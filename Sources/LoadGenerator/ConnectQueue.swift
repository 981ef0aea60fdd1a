import Reactor

/// Opening connections, for one worker. Connects in flight are bounded (thousands at once
/// overflow the server's listen backlog, and the excess waits for SYN retransmits: seconds); the
/// others wait their turn in order. The run's first connects make up the connect phase, timed,
/// before the measured schedule starts. New sockets bind to the local addresses given, in turn.
struct ConnectQueue {
    let limit: Int
    private(set) var inFlight = 0
    /// Connections waiting for a connect slot, oldest from `head`.
    private var waiting: [Int] = []
    private var head = 0
    /// Handing out slots is under way (not re-entered: a connect that fails at once ends inside it).
    var draining = false
    /// Local addresses new sockets bind to, round-robin (`--source-addrs`; empty: the kernel's choice).
    private let sources: [SocketAddress]
    private var nextSource = 0
    /// The connect phase: first connects not yet ended, whether it has ended, what it measured.
    private(set) var phasePending = 0
    private(set) var phaseEnded = false
    private(set) var phase = WorkerPhase()

    init(limit: Int, sources: [SocketAddress]) {
        self.limit = limit
        self.sources = sources
    }

    var hasRoom: Bool { inFlight < limit }

    mutating func enqueue(_ i: Int) { waiting.append(i) }

    /// A connect starts (it holds a slot until `ended`); returns the local address to bind.
    mutating func started() -> SocketAddress? {
        inFlight += 1
        guard !sources.isEmpty else { return nil }
        defer { nextSource = nextSource + 1 == sources.count ? 0 : nextSource + 1 }
        return sources[nextSource]
    }

    /// The next queued connection a free slot goes to, oldest first.
    mutating func nextQueued() -> Int? {
        guard inFlight < limit, head < waiting.count else {
            if head == waiting.count && head > 0 {
                waiting.removeAll(keepingCapacity: true)
                head = 0
            }
            return nil
        }
        head += 1
        return waiting[head - 1]
    }

    /// The phase waits for `n` first connects.
    mutating func phaseAwaits(_ n: Int) { phasePending += n }

    /// A connect ended and gave its slot back. For one the phase awaited, what it measured;
    /// returns true when that was the phase's last.
    mutating func ended(_ end: ConnectionStateMachine.ConnectEnd, now: UInt64) -> Bool {
        inFlight -= 1
        guard end.awaitedByPhase else { return false }
        switch end.outcome {
        case .established:
            phase.established += 1
            phase.connectTime.record(Int64((now &- end.startedAt + 500) / 1000))
        case .failed: phase.failed += 1
        case .abandoned: break
        }
        return phaseLeft()
    }

    /// One awaited connect will never happen (its connection was retired first); returns true
    /// when the phase has nothing left to wait for.
    mutating func phaseLeft() -> Bool {
        phasePending -= 1
        return phasePending == 0
    }

    /// Ends the phase at `now`; returns what it measured the first time only.
    mutating func endPhase(now: UInt64) -> WorkerPhase? {
        guard !phaseEnded else { return nil }
        phaseEnded = true
        phase.endedAt = now
        return phase
    }
}
