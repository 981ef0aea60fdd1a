import StampedeModel

/// Steering: changes to the running load reach every worker of their scenario with the instant
/// they apply at; each worker applies them to its schedule then and acts on what that moves.
extension Worker {
    /// Takes the changes the run has not given this worker yet (those of its scenario) and
    /// applies the ones due.
    func takeChanges(_ log: [TimedChange]) {
        guard log.count > changesSeen else { return }
        for c in log[changesSeen...] where c.change.scenario == place.scenario { pendingChanges.append(c) }
        changesSeen = log.count
        applyDueChanges(now: now())
    }

    /// Applies the changes due by `now` (all of them at the schedule's start, for those that came
    /// before it) and arms a timer for the next.
    func applyDueChanges(now: UInt64) {
        guard lifecycle == .running else { return }
        while let first = pendingChanges.first, first.atNs <= now {
            pendingChanges.removeFirst()
            apply(first.change.kind, at: first.atNs, now: now)
        }
        if let next = pendingChanges.first { reactor.schedule(at: next.atNs, handler: ids.timer, token: Self.changeToken) }
    }

    private func apply(_ kind: LoadChange.Kind, at t: UInt64, now: UInt64) {
        guard let effect = schedule.apply(kind, at: t, pauseExtends: config.pauseExtends) else { return }
        switch effect {
        case .wakeWaiting:
            for i in conns.indices { lookAgain(i, now: now) }
        case .follow(let wanted):
            follow(wanted: wanted, now: now)
            // Held by a pause (or thinking): they look again at what the schedule wants now.
            for i in 0..<Swift.min(wanted, conns.count) { lookAgain(i, now: now) }
        case .rearmArrivals(let next):
            if let next { reactor.schedule(at: next, handler: ids.timer, token: Self.arrivalToken) }
            dispatchArrivals(now: now)
        }
    }

    /// A connection waiting for its slot (or a pause's end) looks again: its timer is forgotten
    /// and it proceeds as the schedule now says.
    private func lookAgain(_ i: Int, now: UInt64) {
        guard case .waiting = conns[i].machine.state else { return }
        if schedule.pacesRequests { conns[i].nextSend = schedule.sendTime(connection: i, scheduled: conns[i].scheduled) }
        conns[i].timerGeneration &+= 1
        perform(i, conns[i].machine.timerFired(), now: now)
    }
}

/// A change and the instant it applies at on this host (monotonic ns).
struct TimedChange: Sendable {
    let change: LoadChange
    let atNs: UInt64

    /// Seconds from `start` (the test's, monotonic ns) to the change (negative: before it).
    func seconds(since start: UInt64) -> Double { Double(Int64(bitPattern: atNs &- start)) / 1e9 }
}
