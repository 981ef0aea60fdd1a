import StampedeModel

/// Load that changes over time. Tsunami stages: every request has an intended send time from
/// the integral of the rate (the driver's k-th request is due when the integral reaches k), so
/// latency is corrected through ramps as at a constant rate. Avalanche stages: the number of
/// open connections follows the target; one that is no longer wanted finishes its request in
/// flight, then rests (no socket) until the ramp wants it again.
extension Worker {
    /// The connection's next intended send: after its `scheduled` sends, at a constant pace or
    /// by the stages' schedule; `.max` when the stages end first.
    func scheduledSend(_ i: Int) -> UInt64 {
        // Connection g of C takes slots g, g + C, g + 2C, …: the connections share the rate.
        slotTime(conns[i].scheduled * config.connections + connectionOffset + i)
    }

    /// When the driver's slot `n` is due: n / rate seconds in at a constant pace (computed from
    /// n each time, so slots never drift and none lands at the end by rounding), or where the
    /// integral of the stages' rate reaches n; `.max` when the stages end first.
    func slotTime(_ n: Int) -> UInt64 {
        if let slotsPerSecond { return startAt + UInt64((Double(n) / slotsPerSecond * 1e9).rounded()) }
        guard let schedule, let t = schedule.time(atIntegral: Double(n)) else { return .max }
        return startAt + UInt64(t * 1e9)
    }

    /// Moves a tsunami connection to its next slot.
    @inline(__always)
    func advanceSchedule(_ i: Int) {
        conns[i].scheduled += 1
        conns[i].nextSend = scheduledSend(i)
    }

    /// A timed tsunami: the driver's slots due before the end (so a run intends exactly rate ×
    /// duration, and what could not be sent is counted, not lost).
    func countIntendedSlots() -> Int {
        guard let stopAt else { return 0 }
        let end = Double(stopAt - startAt) / 1e9
        var n: Int
        if let slotsPerSecond { n = Int((end * slotsPerSecond).rounded(.up)) } else if let schedule { n = Int(schedule.integral(to: end).rounded(.up)) } else { return 0 }
        // Settle the rounding against the slot times themselves.
        while n > 0 && slotTime(n - 1) >= stopAt { n -= 1 }
        while slotTime(n) < stopAt { n += 1 }
        return n
    }

    /// A connection retires: its slots due before the end that it did not send are `unsent`,
    /// each also counted in the second it was due (`unsent_per_second`; a connection with
    /// more than `perSecondLimit` of them counts them in total only).
    func countUnsent(_ i: Int) {
        let g = connectionOffset + i, c = config.connections
        let mine = g < intendedSlots ? (intendedSlots - g + c - 1) / c : 0
        let unsent = Swift.max(0, mine - conns[i].scheduled)
        intervalCounters.unsent += unsent
        guard unsent > 0, unsent <= Self.perSecondLimit else { return }
        var n = conns[i].scheduled * c + g
        while n < intendedSlots {
            let second = Int((slotTime(n) &- startAt) / 1_000_000_000)
            if second >= unsentPerSecond.count { unsentPerSecond += Array(repeating: 0, count: second + 1 - unsentPerSecond.count) }
            unsentPerSecond[second] += 1
            n += c
        }
    }

    static let perSecondLimit = 10_000_000

    /// How many of this worker's connections the ramp wants at `t` seconds (the driver's target
    /// rounded, less the connections of the threads before this one).
    func wantedConnections(_ ramp: StageProfile, at t: Double) -> Int {
        let total = Int(ramp.target(at: t).rounded())
        return Swift.min(Swift.max(total - connectionOffset, 0), conns.count)
    }

    /// Avalanche stages, each tick: open the connections the ramp now wants; those it no longer
    /// wants rest when their request in flight ends (`proceed`).
    func followRamp(now: UInt64) {
        guard let ramp, !stopping else { return }
        wanted = wantedConnections(ramp, at: Double(now &- startAt) / 1e9)
        for i in 0..<wanted where conns[i].machine.wake() { proceed(i, now: now) }
        // Idle ones past the target rest now (the others when their response ends).
        for i in wanted..<conns.count {
            switch conns[i].machine.state {
            case .closed, .backoff: rest(i)
            default: continue
            }
        }
    }

    /// Closes a connection the ramp does not want now; it stays in the run.
    func rest(_ i: Int) {
        let abandoned = conns[i].machine.rest()
        closeSocket(i)
        closeParked(i)
        conns[i].next = nil
        if let abandoned { connectEnded(i, abandoned, now: clock.nanoseconds()) }
    }
}
