import Reactor
import Testing
@testable import LoadGenerator

/// The connection's lifecycle driven event by event with a manual clock: no socket, no real time.
@Suite struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine
    let clock = ManualMonotonicClock()
    static let timeoutMs: UInt64 = 2_000
    var now: UInt64 { clock.nanoseconds() }

    func machine() -> Machine { Machine(timeoutNs: Self.timeoutMs * 1_000_000) }

    /// A machine with an established plain connection, idle.
    func connected() -> Machine {
        var m = machine()
        m.connectStarted(now: now)
        _ = m.connectFinished(error: 0, tls: false, now: now)
        return m
    }

    @Test func plainConnectThenOneRequest() {
        var m = machine()
        m.connectStarted(now: now, awaitedByPhase: true)
        #expect(m.holdsConnectSlot)
        #expect(m.deadline == now + Self.timeoutMs * 1_000_000)
        let start = now
        clock.advance(milliseconds: 3)
        // TCP's end is the connect's time (connect_us: 3 ms).
        #expect(m.connectFinished(error: 0, tls: false, now: now)
                == .established(.init(outcome: .established, startedAt: start, awaitedByPhase: true, connectedAt: start + 3_000_000), resend: false))
        #expect(m.state == .closed && !m.holdsConnectSlot && m.deadline == 0)

        m.requestStarted(now: now, retryable: false)
        #expect(m.hasRequestInFlight)
        #expect(m.requestWritten() == .setInterest(.readable))
        #expect(m.responseRead(.needMore, now: now) == .none)
        #expect(m.responseRead(.complete(status: 200, keepAlive: true), now: now) == .complete(status: 200, keepAlive: true))
        #expect(m.state == .closed && !m.hasRequestInFlight)
    }

    @Test func tlsHandshakeSteps() {
        var m = machine()
        let start = now
        m.connectStarted(now: now)
        clock.advance(milliseconds: 2)
        #expect(m.connectFinished(error: 0, tls: true, now: now) == .startHandshake)
        #expect(m.handshakeStepped(.wantRead, now: now) == .setInterest(.readable))
        #expect(m.handshakeStepped(.wantWrite, now: now) == .setInterest(.writable))
        // The handshake shares the connect's deadline and slot.
        #expect(m.holdsConnectSlot && m.deadline == start + Self.timeoutMs * 1_000_000)
        clock.advance(milliseconds: 5)
        // TCP took 2 ms (connect_us); the handshake ran from then to now (tls_us: 5 ms).
        #expect(m.handshakeStepped(.done, now: now)
                == .established(.init(outcome: .established, startedAt: start, awaitedByPhase: false, connectedAt: start + 2_000_000), resend: false))
    }

    @Test func failedHandshakeBacksOffLikeAFailedConnect() {
        var m = machine()
        m.connectStarted(now: now)
        _ = m.connectFinished(error: 0, tls: true, now: now)
        let action = m.handshakeStepped(.failed, now: now)
        guard case .fail(.tls, false, let end?, .reconnect(let at)) = action else { Issue.record("\(action)"); return }
        #expect(end.outcome == .failed)
        #expect(at == now + 10_000_000)
    }

    /// Each failed connect in a row waits 10 ms longer, up to half a second; a success resets it.
    @Test func reconnectBackoffGrowsAndResets() {
        var m = machine()
        var waits: [UInt64] = []
        for _ in 0..<52 {
            m.connectStarted(now: now)
            guard case .fail(.connect, _, _, .reconnect(let at)) = m.connectFinished(error: 111, tls: false, now: now) else {
                Issue.record("no backoff"); return
            }
            waits.append((at - now) / 1_000_000)
            clock.advance(milliseconds: (at - now) / 1_000_000)
            #expect(m.timerFired() == .proceed)
        }
        #expect(Array(waits.prefix(3)) == [10, 20, 30])
        #expect(waits[49] == 500 && waits[51] == 500)
        m.connectStarted(now: now)
        _ = m.connectFinished(error: 0, tls: false, now: now)
        #expect(m.connectFailures == 0)
        m.requestStarted(now: now, retryable: false)
        _ = m.connectionLost(.read, now: now)
        m.connectStarted(now: now)
        guard case .fail(_, _, _, .reconnect(let at)) = m.connectFinished(error: 111, tls: false, now: now) else { return }
        #expect(at - now == 10_000_000)
    }

    /// The connect, handshake and response each time out at their own deadline, as their own kind.
    @Test func timeouts() {
        var m = machine()
        m.connectStarted(now: now)
        clock.advance(milliseconds: Self.timeoutMs - 1)
        #expect(m.deadlineCheck(now: now) == .none)
        clock.advance(milliseconds: 1)
        guard case .fail(.connect, false, _?, .reconnect) = m.deadlineCheck(now: now) else { Issue.record("connect timeout"); return }

        var h = machine()
        h.connectStarted(now: now)
        _ = h.connectFinished(error: 0, tls: true, now: now)
        clock.advance(milliseconds: Self.timeoutMs)
        guard case .fail(.tls, false, _?, .reconnect) = h.deadlineCheck(now: now) else { Issue.record("handshake timeout"); return }

        var r = connected()
        r.requestStarted(now: now, retryable: true)
        _ = r.requestWritten()
        clock.advance(milliseconds: Self.timeoutMs - 1)
        #expect(r.deadlineCheck(now: now) == .none)
        clock.advance(milliseconds: 1)
        #expect(r.deadlineCheck(now: now) == .fail(.timeout, lostRequest: true, connect: nil, next: .proceed))
        #expect(r.state == .closed && r.deadline == 0)
        // A connection with nothing running has no deadline to pass.
        clock.advance(milliseconds: 60_000)
        #expect(r.deadlineCheck(now: now) == .none)
    }

    /// A reused connection closed before any byte of the response: the request is resent once on
    /// a fresh connection, with a fresh response deadline, and a second loss is a failure.
    @Test func staleKeepAliveRetry() {
        var m = connected()
        m.requestStarted(now: now, retryable: true)
        _ = m.requestWritten()
        #expect(m.connectionLost(.read, now: now) == .retryStale)
        #expect(m.state == .resendPending && m.hasRequestInFlight)
        let start = now
        m.connectStarted(now: now)
        #expect(m.hasRequestInFlight)
        clock.advance(milliseconds: 4)
        #expect(m.connectFinished(error: 0, tls: false, now: now)
                == .established(.init(outcome: .established, startedAt: start, awaitedByPhase: false, connectedAt: start + 4_000_000), resend: true))
        #expect(m.state == .writing(.init(deadline: now + Self.timeoutMs * 1_000_000, retryable: false)))
        _ = m.requestWritten()
        #expect(m.connectionLost(.read, now: now) == .fail(.read, lostRequest: true, connect: nil, next: .proceed))
    }

    @Test func resendLostWhenItsReconnectFails() {
        var m = connected()
        m.requestStarted(now: now, retryable: true)
        #expect(m.connectionLost(.write, now: now) == .retryStale)
        m.connectStarted(now: now)
        guard case .fail(.connect, true, _?, .reconnect) = m.connectFinished(error: 111, tls: false, now: now) else {
            Issue.record("the resent request is not lost with its connect"); return
        }
    }

    /// Once a byte of the response arrived, a close is the server's failure, not a stale socket.
    @Test func noRetryAfterTheResponseStarted() {
        var m = connected()
        m.requestStarted(now: now, retryable: true)
        _ = m.requestWritten()
        _ = m.responseRead(.needMore, now: now)
        #expect(m.connectionLost(.read, now: now) == .fail(.read, lostRequest: true, connect: nil, next: .proceed))
    }

    @Test func notRetryableRequestsFail() {
        var m = connected()
        m.requestStarted(now: now, retryable: false)
        #expect(m.connectionLost(.write, now: now) == .fail(.write, lostRequest: true, connect: nil, next: .proceed))
    }

    /// A response without a length ends with the close: complete, and the socket does not stay.
    @Test func closeCompletesAResponseWithoutLength() {
        var m = connected()
        m.requestStarted(now: now, retryable: true)
        _ = m.requestWritten()
        #expect(m.connectionLost(.read, completeAtEOF: 200, now: now) == .complete(status: 200, keepAlive: false))
    }

    @Test func malformedResponseIsAParseFailure() {
        var m = connected()
        m.requestStarted(now: now, retryable: false)
        _ = m.requestWritten()
        #expect(m.responseRead(.malformed, now: now) == .fail(.parse, lostRequest: true, connect: nil, next: .proceed))
    }

    /// The connect phase: a queued connection keeps being awaited by the phase when its slot comes.
    @Test func connectPhaseIsToldOfTheQueuedConnect() {
        var m = machine()
        m.connectQueued(awaitedByPhase: true)
        clock.advance(milliseconds: 7)
        let start = now
        m.connectStarted(now: now)
        guard case .fail(.connect, false, let end?, _) = m.connectFinished(error: 111, tls: false, now: now) else { return }
        #expect(end == .init(outcome: .failed, startedAt: start, awaitedByPhase: true))
        // Later connects are not the phase's.
        _ = m.timerFired()
        m.connectStarted(now: now)
        guard case .established(let second, _) = m.connectFinished(error: 0, tls: false, now: now) else { return }
        #expect(!second.awaitedByPhase)
    }

    /// Retiring (or resting) a connection abandons a connect in flight, freeing its slot once.
    @Test func retiringAbandonsAConnectInFlight() {
        var m = machine()
        m.connectStarted(now: now, awaitedByPhase: true)
        let end = m.retire()
        #expect(end == .some(.init(outcome: .abandoned, startedAt: now, awaitedByPhase: true)))
        #expect(m.retire() == .none)
        var idle = connected()
        #expect(idle.retire() == .some(nil))

        var resting = machine()
        resting.connectStarted(now: now)
        _ = resting.connectFinished(error: 0, tls: true, now: now)
        #expect(resting.rest()?.outcome == .abandoned)
        #expect(resting.state == .dormant && resting.wake() && resting.state == .closed)
    }

    /// A failure that is not the connect's (epoll_ctl during the handshake) still frees the slot.
    @Test func otherFailureDuringHandshakeAbandonsTheConnect() {
        var m = machine()
        m.connectStarted(now: now)
        _ = m.connectFinished(error: 0, tls: true, now: now)
        guard case .fail(.read, false, let end?, .proceed) = m.failed(.read, now: now) else { Issue.record("no slot freed"); return }
        #expect(end.outcome == .abandoned)
    }

    /// Ramps: a connection past the target finishes its request in flight, then rests; retiring
    /// for the end of the run skips requests in flight.
    @Test func requestsInFlightFinishBeforeRestOrRetire() {
        var m = connected()
        m.requestStarted(now: now, retryable: false)
        #expect(m.hasRequestInFlight)
        _ = m.requestWritten()
        #expect(m.responseRead(.complete(status: 204, keepAlive: true), now: now) == .complete(status: 204, keepAlive: true))
        #expect(!m.hasRequestInFlight)
        #expect(m.rest() == nil)
        #expect(m.state == .dormant)
    }

    /// Tsunami: waiting for a slot, then the timer; a timer for a connection that moved on is ignored.
    @Test func waitingForTheNextSlot() {
        var m = connected()
        m.wait(until: now + 5_000_000)
        #expect(m.state == .waiting(until: now + 5_000_000))
        #expect(m.timerFired() == .proceed)
        #expect(m.timerFired() == .none)
        m.parkReady()
        #expect(m.timerFired() == .none)
        #expect(m.begin() && !m.begin())
    }
}
