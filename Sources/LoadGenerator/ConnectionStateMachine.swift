import Reactor

/// One connection slot's lifecycle as a value: connect (holding a connect slot), TLS handshake,
/// a request written and its response read, the stale keep-alive resend, timeouts and the
/// reconnect backoff. Each event is a `mutating` method returning what to do; the worker owns the
/// sockets, timers and counters and carries the action out. Times are monotonic nanoseconds
/// passed in with each event, so the machine is driven in tests by a manual clock.
///
/// What to send next and when (the budget, the pace, the ramp, the end of the run) is the
/// worker's scheduling; this machine only knows the connection.
///
/// Thread-safety: a value owned by its worker's thread.
struct ConnectionStateMachine {
    /// A connect in flight. It holds one of the worker's connect slots until it ends.
    struct Attempt: Equatable {
        var startedAt: UInt64
        /// When TCP connected (a TLS origin's handshake follows; 0 until then).
        var connectedAt: UInt64 = 0
        var deadline: UInt64
        /// The connect phase waits for this connection's first connect to end.
        var awaitedByPhase: Bool
        /// A request lost to a stale keep-alive close is resent once this connection is up.
        var resend: Bool
    }

    /// A request on the wire.
    struct Request: Equatable {
        var deadline: UInt64
        /// The server may have timed the idle connection out as the request went out: it can be
        /// resent on a fresh connection until a byte of its response arrives (idempotent, on a
        /// reused socket, not resent already).
        var retryable: Bool
    }

    enum State: Equatable {
        /// No request in flight and nothing pending: the worker decides what comes next. A
        /// socket may be open (kept alive) or not.
        case closed
        /// Waiting for a connect slot.
        case queued(awaitedByPhase: Bool)
        case connecting(Attempt)
        case handshaking(Attempt)
        case writing(Request)
        case reading(Request)
        /// The request was lost to a stale keep-alive close; the reconnect that resends it is next.
        case resendPending
        /// Tsunami: waiting for the next intended send time (a timer is armed).
        case waiting(until: UInt64)
        /// Waiting to reconnect after a failed connect (a timer is armed).
        case backoff(until: UInt64)
        /// Connected in the connect phase: waiting for the measured schedule to start.
        case ready
        /// Avalanche stages: not wanted now (no socket); the ramp may wake it.
        case dormant
        /// No more requests from this connection.
        case retired
    }

    /// How a connect that held a slot ended: the worker frees the slot and tells the connect phase.
    struct ConnectEnd: Equatable {
        enum Outcome: Equatable { case established, failed, abandoned }
        var outcome: Outcome
        var startedAt: UInt64
        var awaitedByPhase: Bool
        /// Established: when TCP connected (the TLS handshake, if any, ran from then to the end).
        var connectedAt: UInt64 = 0
    }

    /// What follows a failure.
    enum AfterFailure: Equatable {
        /// Reconnect when the backoff ends (a failed connect or handshake): arm a timer then.
        case reconnect(at: UInt64)
        /// Go on with the next request (the worker reconnects when it sends).
        case proceed
    }

    enum Action: Equatable {
        case none
        /// Watch the socket for these events.
        case setInterest(IOEvents)
        /// TCP is up to a TLS origin: create the stream and step the handshake.
        case startHandshake
        /// TCP (and TLS) is up: count the connect, free its slot, then proceed with the next
        /// request or (`resend`) write the lost one again.
        case established(ConnectEnd, resend: Bool)
        /// A whole response arrived: record it; close the socket unless it stays alive; proceed.
        case complete(status: Int, keepAlive: Bool)
        /// The server closed a reused connection before any byte of the response: count a stale
        /// retry, close, and reconnect to send the same request again (it stays one request).
        case retryStale
        /// Count the failure; `lostRequest`: a request in flight is lost with it (counted under
        /// its name, a paced slot moves on). Close the socket, end the connect (if one held a
        /// slot), then `next`.
        case fail(Failure, lostRequest: Bool, connect: ConnectEnd?, next: AfterFailure)
        /// A waiting or backoff timer ended: proceed with the next request.
        case proceed
    }

    private(set) var state: State = .closed
    /// Failed connects in a row: the backoff grows with them, up to `maxBackoffSteps`.
    private(set) var connectFailures = 0
    let timeoutNs: UInt64

    static let backoffStepNs: UInt64 = 10_000_000
    static let maxBackoffSteps = 50

    init(timeoutNs: UInt64) {
        self.timeoutNs = timeoutNs
    }

    /// The connect, handshake or response deadline running now; 0 when none is.
    var deadline: UInt64 {
        switch state {
        case .connecting(let a), .handshaking(let a): return a.deadline
        case .writing(let r), .reading(let r): return r.deadline
        default: return 0
        }
    }

    /// A request is in flight (being written, read, or waiting on the reconnect that resends it):
    /// it finishes whatever the budget or the clock say.
    var hasRequestInFlight: Bool {
        switch state {
        case .writing, .reading, .resendPending: return true
        case .connecting(let a), .handshaking(let a): return a.resend
        default: return false
        }
    }

    /// A connect in flight holds a slot.
    var holdsConnectSlot: Bool {
        switch state {
        case .connecting, .handshaking: return true
        default: return false
        }
    }

    // MARK: Connecting

    /// All connect slots are taken: wait for one.
    mutating func connectQueued(awaitedByPhase: Bool) {
        guard case .closed = state else { preconditionFailure("Invalid state for connectQueued: \(state)") }
        state = .queued(awaitedByPhase: awaitedByPhase)
    }

    /// The socket's connect was issued (it holds a slot from now on); its deadline runs.
    mutating func connectStarted(now: UInt64, awaitedByPhase: Bool = false) {
        let startedAt = Swift.max(now, 1)
        switch state {
        case .closed:
            state = .connecting(Attempt(startedAt: startedAt, deadline: now + timeoutNs, awaitedByPhase: awaitedByPhase, resend: false))
        case .queued(let awaited):
            state = .connecting(Attempt(startedAt: startedAt, deadline: now + timeoutNs, awaitedByPhase: awaited || awaitedByPhase, resend: false))
        case .resendPending:
            state = .connecting(Attempt(startedAt: startedAt, deadline: now + timeoutNs, awaitedByPhase: false, resend: true))
        case .connecting, .handshaking, .writing, .reading, .waiting, .backoff, .ready, .dormant, .retired:
            preconditionFailure("Invalid state for connectStarted: \(state)")
        }
    }

    /// The connect ended: `error` is the socket's pending error (0: connected).
    mutating func connectFinished(error: Int32, tls: Bool, now: UInt64) -> Action {
        guard case .connecting(var attempt) = state else { preconditionFailure("Invalid state for connectFinished: \(state)") }
        if error != 0 { return failed(.connect, now: now) }
        attempt.connectedAt = now
        if tls {
            state = .handshaking(attempt)
            return .startHandshake
        }
        return established(attempt, now: now)
    }

    /// One step of the TLS handshake.
    mutating func handshakeStepped(_ step: HandshakeStep, now: UInt64) -> Action {
        guard case .handshaking(let attempt) = state else { preconditionFailure("Invalid state for handshakeStepped: \(state)") }
        switch step {
        case .done: return established(attempt, now: now)
        case .wantRead: return .setInterest(.readable)
        case .wantWrite: return .setInterest(.writable)
        case .failed: return failed(.tls, now: now)
        }
    }

    enum HandshakeStep: Equatable { case done, wantRead, wantWrite, failed }

    private mutating func established(_ attempt: Attempt, now: UInt64) -> Action {
        connectFailures = 0
        let end = ConnectEnd(outcome: .established, startedAt: attempt.startedAt, awaitedByPhase: attempt.awaitedByPhase,
                             connectedAt: attempt.connectedAt)
        if attempt.resend {
            // Timed from the resend: the first send's time stays the request's service time.
            state = .writing(Request(deadline: now + timeoutNs, retryable: false))
        } else {
            state = .closed
        }
        return .established(end, resend: attempt.resend)
    }

    // MARK: A request

    /// The worker starts writing a request on an open socket. `retryable`: idempotent, and the
    /// socket has carried a whole response before (see `Request.retryable`).
    mutating func requestStarted(now: UInt64, retryable: Bool) {
        guard case .closed = state else { preconditionFailure("Invalid state for requestStarted: \(state)") }
        state = .writing(Request(deadline: now + timeoutNs, retryable: retryable))
    }

    /// The whole request is written: wait for the response.
    mutating func requestWritten() -> Action {
        guard case .writing(let request) = state else { preconditionFailure("Invalid state for requestWritten: \(state)") }
        state = .reading(request)
        return .setInterest(.readable)
    }

    /// What the parser made of the bytes just read.
    enum ResponseProgress: Equatable {
        case needMore
        case complete(status: Int, keepAlive: Bool)
        /// Bytes beyond the response's end that no request asked for, or a malformed response.
        case malformed
    }

    /// Bytes of the response arrived: from now on the request cannot be resent.
    @inline(__always)
    mutating func responseRead(_ progress: ResponseProgress, now: UInt64) -> Action {
        guard case .reading(var request) = state else { preconditionFailure("Invalid state for responseRead: \(state)") }
        switch progress {
        case .needMore:
            if request.retryable {
                request.retryable = false
                state = .reading(request)
            }
            return .none
        case .complete(let status, let keepAlive):
            state = .closed
            return .complete(status: status, keepAlive: keepAlive)
        case .malformed:
            return failed(.parse, now: now)
        }
    }

    /// The server closed the connection (end of stream) or a read or write failed while a
    /// request was in flight. `completeAtEOF`: the status of a response the close completed
    /// (one without a length, ended by the close).
    mutating func connectionLost(_ kind: Failure, completeAtEOF status: Int? = nil, now: UInt64) -> Action {
        let request: Request
        switch state {
        case .writing(let r): request = r
        case .reading(let r): request = r
        default: preconditionFailure("Invalid state for connectionLost: \(state)")
        }
        if let status {
            state = .closed
            return .complete(status: status, keepAlive: false)
        }
        if request.retryable {
            state = .resendPending
            return .retryStale
        }
        return failed(kind, now: now)
    }

    // MARK: Time

    /// The tick checks deadlines: a connect, handshake or response past its own times out.
    mutating func deadlineCheck(now: UInt64) -> Action {
        let due = deadline
        guard due != 0, now >= due else { return .none }
        switch state {
        case .connecting: return failed(.connect, now: now)
        case .handshaking: return failed(.tls, now: now)
        default: return failed(.timeout, now: now)
        }
    }

    /// Tsunami: idle until the next intended send (the worker arms a timer at `until`).
    mutating func wait(until: UInt64) {
        guard case .closed = state else { preconditionFailure("Invalid state for wait: \(state)") }
        state = .waiting(until: until)
    }

    /// A waiting or backoff timer fired; `.proceed` unless the connection moved on meanwhile.
    mutating func timerFired() -> Action {
        switch state {
        case .waiting, .backoff:
            state = .closed
            return .proceed
        default: return .none
        }
    }

    // MARK: Failures

    /// A failure of `kind` in whatever the connection was doing. Connect and TLS failures back
    /// off before the next connect (10 ms more per failure in a row, at most 0.5 s); others go on
    /// at once.
    mutating func failed(_ kind: Failure, now: UInt64) -> Action {
        var lost = false
        var end: ConnectEnd?
        switch state {
        case .writing, .reading, .resendPending: lost = true
        case .connecting(let a), .handshaking(let a):
            lost = a.resend
            end = ConnectEnd(outcome: kind == .connect || kind == .tls ? .failed : .abandoned,
                             startedAt: a.startedAt, awaitedByPhase: a.awaitedByPhase)
        default: break
        }
        guard kind == .connect || kind == .tls else {
            state = .closed
            return .fail(kind, lostRequest: lost, connect: end, next: .proceed)
        }
        connectFailures += 1
        let until = now + UInt64(Swift.min(connectFailures, Self.maxBackoffSteps)) * Self.backoffStepNs
        state = .backoff(until: until)
        return .fail(kind, lostRequest: lost, connect: end, next: .reconnect(at: until))
    }

    // MARK: Scheduling states

    /// Connected before the schedule started: idle until it does.
    mutating func parkReady() { state = .ready }

    /// The schedule started: a ready connection goes on (`true`).
    mutating func begin() -> Bool {
        guard case .ready = state else { return false }
        state = .closed
        return true
    }

    /// The ramp no longer wants this connection; a connect in flight is abandoned (returned).
    mutating func rest() -> ConnectEnd? {
        let end = abandon()
        state = .dormant
        return end
    }

    /// The ramp wants this dormant connection again (`true`).
    mutating func wake() -> Bool {
        guard case .dormant = state else { return false }
        state = .closed
        return true
    }

    /// Done; nil when it already was. A connect in flight is abandoned (returned: close its socket).
    mutating func retire() -> ConnectEnd?? {
        if case .retired = state { return .none }
        let end = abandon()
        state = .retired
        return .some(end)
    }

    private func abandon() -> ConnectEnd? {
        switch state {
        case .connecting(let a), .handshaking(let a):
            return ConnectEnd(outcome: .abandoned, startedAt: a.startedAt, awaitedByPhase: a.awaitedByPhase)
        default: return nil
        }
    }
}

/// How a connection or its request failed (each an `ErrorCounts` kind).
enum Failure: Equatable {
    case connect, tls, timeout, read, write, parse
}
