import Histogram
import Reactor
import StampedeModel

/// The worker's clock: per-connection timers (tsunami slots, reconnect backoff), the tick that
/// checks deadlines and the end of a timed run, and the per-second interval it publishes.
extension Worker {
    /// The clock's reading (ns).
    @inline(__always)
    func now() -> UInt64 { usesSystemClock ? monotonicNanoseconds() : clock.nanoseconds() }

    func setTimer(_ i: Int, at deadline: UInt64) {
        conns[i].timerGeneration &+= 1
        let generation = conns[i].timerGeneration & ((1 << Self.generationBits) - 1)
        reactor.schedule(at: deadline, handler: timerID, token: i << Self.generationBits | generation)
    }

    func reactor(_ reactor: Reactor, timerFired token: Int, now: UInt64) {
        switch token {
        case Self.tickToken:
            tick(now: now)
            if active > 0 { reactor.schedule(at: now + tickNs, handler: timerID, token: Self.tickToken) }
        case Self.beginToken:
            begin(now: now)
        case Self.arrivalToken:
            arrivalsDue(now: now)
        case Self.intervalToken:
            guard active > 0 else { return }
            publishInterval(final: false)
            reactor.schedule(at: startAt + UInt64(intervalIndex + 1) * 1_000_000_000, handler: timerID, token: Self.intervalToken)
        default:
            let i = token >> Self.generationBits
            guard i < conns.count,
                  conns[i].timerGeneration & ((1 << Self.generationBits) - 1) == token & ((1 << Self.generationBits) - 1) else { return }
            perform(i, conns[i].machine.timerFired(), now: now)
        }
    }

    /// Deadlines (connect, handshake, response) and the end of a timed run.
    func tick(now: UInt64) {
        if pastEnd(now) { beginStopping() }
        if ramp != nil && begun { followRamp(now: now) }
        if sessionPaced && begun { dispatchArrivals(now: now) }
        for i in conns.indices {
            let due = conns[i].machine.deadline
            guard due != 0, now >= due else { continue }
            switch conns[i].machine.state {
            case .connecting: noteFirstError("connect to \(address(i)): timed out after \(config.timeoutMs) ms")
            case .handshaking:
                noteFirstError("TLS handshake with \(address(i)) timed out after \(config.timeoutMs) ms (is the server speaking plain HTTP?)")
            default: noteFirstError("request to \(address(i)): no complete response within the \(config.timeoutMs) ms timeout")
            }
            perform(i, conns[i].machine.deadlineCheck(now: now), now: now)
        }
    }

    /// A timed run is over. Tsunami: a slot due before the end is sent even when the reactor
    /// runs late (each connection retires at its first slot past the end), so the count is the
    /// rate times the duration; only a reactor more than `lateSlotGraceNs` behind drops slots.
    @inline(__always)
    func pastEnd(_ now: UInt64) -> Bool {
        guard let stopAt else { return false }
        return now >= stopAt + (paced ? Self.lateSlotGraceNs : 0)
    }

    func publishInterval(final: Bool) {
        intervalIndex += 1
        sink.push(IntervalSample(thread: threadIndex, index: intervalIndex, final: final,
                                 counters: intervalCounters, latency: intervalLatency, byName: takeNameInterval(),
                                 connections: openSockets, sessions: workload.sessions ? sessionInterval : nil))
        counters = counters + intervalCounters
        intervalCounters = LoadCounters()
        intervalLatency.reset()
        if workload.sessions {
            do { try sessionTotals.add(sessionInterval) } catch { noteFirstError("session histogram: \(error)") }
            sessionInterval.reset()
        }
    }
}
