import StampedeModel

/// The open model of users (`session_rate`): sessions arrive on a schedule whatever the target
/// does, each taking a free connection slot. An arrival that finds none waits in order; its
/// session is timed from the intended arrival (`start_delay_us` is the wait), and one still
/// waiting after the timeout is dropped and counted. Closed model (avalanche, or tsunami without
/// a session rate): a connection runs session after session and nothing here is used.
extension Worker {
    /// When this worker's `k`-th arrival is due. The driver's arrivals are numbered g = 0, 1, …;
    /// like a tsunami's sends, this worker takes those of its connections' places (g mod C in its
    /// range), so the threads share the rate exactly.
    func arrivalTime(_ k: Int) -> UInt64 {
        let n = conns.count
        let g = Double((k / n) * config.connections + connectionOffset + k % n)
        if let schedule {
            guard let t = schedule.time(atIntegral: g) else { return .max }
            return startAt + UInt64(t * 1e9)
        }
        guard case .rate(let rate) = config.pacing else { return .max }
        return startAt + UInt64(g / rate * 1e9)
    }

    /// The schedule began: the first arrival's timer.
    func beginArrivals() {
        nextArrival = arrivalTime(0)
        armArrivals()
    }

    private func armArrivals() {
        guard nextArrival != .max, stopAt.map({ nextArrival < $0 }) ?? true else { nextArrival = .max; return }
        reactor.schedule(at: nextArrival, handler: timerID, token: Self.arrivalToken)
    }

    /// Arrivals due by `now` join the queue, and queued ones take the free connections.
    func arrivalsDue(now: UInt64) {
        guard !stopping else { return }
        while nextArrival <= now, stopAt.map({ nextArrival < $0 }) ?? true {
            waitingArrivals.append(nextArrival)
            arrivalsScheduled += 1
            nextArrival = arrivalTime(arrivalsScheduled)
        }
        dispatchArrivals(now: now)
        armArrivals()
    }

    /// A connection with no session: it waits for an arrival (no timer: an arrival wakes it).
    func becomeFree(_ i: Int, now: UInt64) {
        conns[i].machine.wait(until: .max)
        freeSlots.append(i)
        dispatchArrivals(now: now)
    }

    /// Gives queued arrivals, oldest first, to free connections; drops those that waited past
    /// the timeout.
    func dispatchArrivals(now: UInt64) {
        dropExpiredArrivals(now: now)
        while waitingHead < waitingArrivals.count, let i = freeSlots.popLast() {
            let arrival = waitingArrivals[waitingHead]
            waitingHead += 1
            guard case .waiting = conns[i].machine.state else { continue }
            conns[i].sessionArrival = arrival
            sessionInterval.startDelay.record(Int64((now &- Swift.min(now, arrival) + 500) / 1000))
            perform(i, conns[i].machine.timerFired(), now: now)
        }
        if waitingHead == waitingArrivals.count {
            waitingArrivals.removeAll(keepingCapacity: true)
            waitingHead = 0
        }
    }

    /// Arrivals that could not start within the timeout: dropped, counted.
    func dropExpiredArrivals(now: UInt64) {
        while waitingHead < waitingArrivals.count, now &- waitingArrivals[waitingHead] > timeoutNs,
              waitingArrivals[waitingHead] < now {
            waitingHead += 1
            intervalCounters.sessions.dropped += 1
        }
    }

    /// The run ends: arrivals still waiting never started (dropped).
    func dropWaitingArrivals() {
        intervalCounters.sessions.dropped += waitingArrivals.count - waitingHead
        waitingArrivals.removeAll()
        waitingHead = 0
    }
}
