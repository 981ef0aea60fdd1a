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
        reactor.schedule(at: deadline, handler: ids.timer, token: i << Self.generationBits | generation)
    }

    func reactor(_ reactor: Reactor, timerFired token: Int, now: UInt64) {
        switch token {
        case Self.tickToken:
            tick(now: now)
            if active > 0 { reactor.schedule(at: now + tickNs, handler: ids.timer, token: Self.tickToken) }
        case Self.beginToken:
            begin(now: now)
        case Self.arrivalToken:
            arrivalsDue(now: now)
        case Self.changeToken:
            applyDueChanges(now: now)
        case Self.intervalToken:
            guard active > 0 else { return }
            publishInterval(final: false)
            reactor.schedule(at: intervalOrigin + UInt64(figures.intervalIndex + 1) * 1_000_000_000, handler: ids.timer, token: Self.intervalToken)
        default:
            let i = token >> Self.generationBits
            guard i < conns.count,
                  conns[i].timerGeneration & ((1 << Self.generationBits) - 1) == token & ((1 << Self.generationBits) - 1) else { return }
            perform(i, conns[i].machine.timerFired(), now: now)
        }
    }

    /// Deadlines (connect, handshake, response) and the end of a timed run.
    func tick(now: UInt64) {
        if schedule.isPastEnd(now) { beginStopping() }
        if lifecycle == .running {
            followRamp(now: now)
            if schedule.pacesSessions { dispatchArrivals(now: now) }
        }
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

    func publishInterval(final: Bool) {
        sink.push(figures.takeInterval(worker: place.slot, scenario: place.scenario, final: final))
    }
}
