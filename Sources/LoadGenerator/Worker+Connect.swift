import Reactor

/// Opening connections. Connects in flight are bounded per worker (thousands at once overflow
/// the server's listen backlog, and the excess waits for SYN retransmits: seconds), and a run
/// opens its connections in a connect phase, timed, before the measured schedule starts.
extension Worker {
    /// Starts the connect phase: each wanted connection picks its first request (and so its
    /// origin) and connects, in turn.
    func beginConnectPhase(now: UInt64) {
        for i in conns.indices where conns[i].machine.state != .dormant { phasePending += 1 }
        if phasePending == 0 { endConnectPhase(now: now); return }
        for i in conns.indices where conns[i].machine.state != .dormant {
            // An earlier connect's failure may have ended the run (an unreachable target) and
            // retired this one: the phase no longer waits for it.
            guard conns[i].machine.state == .closed else {
                phasePending -= 1
                if phasePending == 0 { endConnectPhase(now: now) }
                continue
            }
            chooseRequest(i)
            connect(i, now: now, awaitedByPhase: true)
        }
    }

    /// Connects now if a slot is free; otherwise the connection waits its turn.
    func connect(_ i: Int, now: UInt64, awaitedByPhase: Bool = false) {
        guard connectsInFlight < connectLimit else {
            conns[i].machine.connectQueued(awaitedByPhase: awaitedByPhase)
            connectQueue.append(i)
            return
        }
        startConnect(i, now: now, awaitedByPhase: awaitedByPhase)
    }

    /// A connect in flight ended: it gives its slot to the next queued connection and, the
    /// first time, tells the connect phase.
    func connectEnded(_ i: Int, _ end: ConnectionStateMachine.ConnectEnd, now: UInt64) {
        connectsInFlight -= 1
        if end.awaitedByPhase {
            switch end.outcome {
            case .established:
                phase.established += 1
                phase.connectTime.record(Int64((now &- end.startedAt + 500) / 1000))
            case .failed: phase.failed += 1
            case .abandoned: break
            }
            phasePending -= 1
            if phasePending == 0 { endConnectPhase(now: now) }
        }
        startQueuedConnects(now: now)
    }

    /// Hands free slots to queued connections, oldest first. Not re-entered: a connect that fails
    /// at once ends inside `startConnect`, and the loop here goes on instead.
    func startQueuedConnects(now: UInt64) {
        guard !startingQueued else { return }
        startingQueued = true
        defer { startingQueued = false }
        while connectsInFlight < connectLimit && queueHead < connectQueue.count {
            let i = connectQueue[queueHead]
            queueHead += 1
            guard case .queued = conns[i].machine.state else { continue }  // retired or rested meanwhile
            startConnect(i, now: now)
        }
        if queueHead == connectQueue.count {
            connectQueue.removeAll(keepingCapacity: true)
            queueHead = 0
        }
    }

    func endConnectPhase(now: UInt64) {
        guard !phaseEnded else { return }
        phaseEnded = true
        phase.endedAt = now
        gate.report(worker: threadIndex, phase)
    }

    /// The gate knows the schedule's start: begin then (at once if it has passed).
    func scheduleBegin() {
        guard !beginScheduled, let start = gate.start else { return }
        beginScheduled = true
        reactor.schedule(at: start, handler: timerID, token: Self.beginToken)
    }

    /// The measured schedule starts: tsunami slots count from here, the interval clock runs,
    /// and the connections that are ready send.
    func begin(now: UInt64) {
        guard !begun, let start = gate.start else { return }
        begun = true
        beganAt = now
        startAt = start
        switch config.stop {
        case .duration(let s): stopAt = startAt + UInt64(s * 1e9)
        case .stages(let profile): stopAt = startAt + UInt64(profile.duration * 1e9)
        case .requests: stopAt = nil
        }
        if paced && !sessionPaced {
            // The connections' first slots spread evenly over the first of them.
            for i in conns.indices { conns[i].nextSend = scheduledSend(i) }
            intendedSlots = countIntendedSlots()
        }
        reactor.schedule(at: startAt + 1_000_000_000, handler: timerID, token: Self.intervalToken)
        if sessionPaced { beginArrivals() }
        for i in conns.indices where conns[i].machine.begin() { proceed(i, now: now) }
    }

    /// Connected before the schedule started: idle until it does (a server's close is read).
    func parkReady(_ i: Int) {
        conns[i].machine.parkReady()
        conns[i].transport.tls?.releaseBuffers()
        setInterest(i, .readable)
    }

    /// Opens the socket now, holding a connect slot until it ends (`connectEnded`).
    func startConnect(_ i: Int, now: UInt64, awaitedByPhase: Bool = false) {
        conns[i].machine.connectStarted(now: now, awaitedByPhase: awaitedByPhase)
        connectsInFlight += 1
        do {
            var source: SocketAddress?
            if !sources.isEmpty {
                source = sources[nextSource]
                nextSource = nextSource + 1 == sources.count ? 0 : nextSource + 1
            }
            let inProgress = try conns[i].transport.connect(to: address(i), from: source)
            socketOpened()
            conns[i].transport.interest = inProgress ? .writable : .readable
            do { try reactor.register(fd: conns[i].transport.fd, events: conns[i].transport.interest, handler: handlerID, token: i) } catch {
                throw TransportError.system(error)
            }
            if !inProgress { connected(i, now: now) }
        } catch {
            noteFirstError("connect to \(address(i)): \(error)")
            perform(i, conns[i].machine.failed(.connect, now: now), now: now)
        }
    }

    /// The connect ended (the socket became writable, or connected at once).
    func connected(_ i: Int, now: UInt64) {
        let err = conns[i].transport.pendingError
        if err != 0 { noteFirstError(IOError(errno: err, operation: "connect", context: address(i).description).description) }
        let tls = endpoints[conns[i].origin].isTLS && tlsContext != nil
        perform(i, conns[i].machine.connectFinished(error: err, tls: tls, now: now), now: now)
    }
}
