/// The schedule's decisions that reach past one connection: avalanche stages open and close
/// connections as the ramp's target moves (a closing connection finishes its request in flight,
/// then rests with no socket until it is wanted again); the open model hands arriving sessions
/// to free connections.
extension Worker {
    /// Avalanche stages, each tick: open the connections the ramp now wants; those it no longer
    /// wants rest when their request in flight ends (`proceed`).
    func followRamp(now: UInt64) {
        guard !isStopping, let wanted = schedule.follow(now: now) else { return }
        follow(wanted: wanted, now: now)
    }

    /// The first `wanted` connections send (resting ones wake); idle ones past them rest now,
    /// the others when their response ends. A ramp's tick and a change of users both do this.
    func follow(wanted: Int, now: UInt64) {
        for i in 0..<wanted where conns[i].machine.wake() { proceed(i, now: now) }
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

    /// Open model: arrivals due by `now` join the queue, the next one's timer is armed, and
    /// queued arrivals take the free connections.
    func arrivalsDue(now: UInt64) {
        guard !isStopping else { return }
        if let next = schedule.arrivalsDue(now: now) { reactor.schedule(at: next, handler: ids.timer, token: Self.arrivalToken) }
        dispatchArrivals(now: now)
    }

    /// A connection with no session: it waits for an arrival (no timer: an arrival wakes it).
    func becomeFree(_ i: Int, now: UInt64) {
        conns[i].machine.wait(until: .max)
        schedule.slotFreed(i)
        dispatchArrivals(now: now)
    }

    /// Gives queued arrivals, oldest first, to free connections (a session is timed from its
    /// intended arrival: `start_delay_us` is the wait); those that waited past the timeout are
    /// dropped and counted.
    func dispatchArrivals(now: UInt64) {
        while let next = schedule.dispatch(now: now) {
            switch next {
            case .drop: figures.second.counters.sessions.dropped += 1
            case .start(let i, let arrival):
                guard case .waiting = conns[i].machine.state else {
                    figures.second.counters.sessions.dropped += 1
                    continue
                }
                conns[i].sessionArrival = arrival
                figures.second.sessions?.startDelay.record(Int64((now &- Swift.min(now, arrival) + 500) / 1000))
                perform(i, conns[i].machine.timerFired(), now: now)
            }
        }
    }
}
