import Reactor

/// Opening connections. Connects in flight are bounded per worker (thousands at once overflow
/// the server's listen backlog, and the excess waits for SYN retransmits: seconds), and a run
/// opens its connections in a connect phase, timed, before the measured schedule starts.
extension Worker {
    /// Starts the connect phase: each wanted connection picks its first request (and so its
    /// origin) and connects, in turn.
    func beginConnectPhase(now: UInt64) {
        var awaited = 0
        for i in conns.indices where conns[i].machine.state != .dormant { awaited += 1 }
        connects.phaseAwaits(awaited)
        if awaited == 0 { endConnectPhase(now: now); return }
        for i in conns.indices where conns[i].machine.state != .dormant {
            // An earlier connect's failure may have ended the run (an unreachable target) and
            // retired this one: the phase no longer waits for it.
            guard conns[i].machine.state == .closed else {
                if connects.phaseLeft() { endConnectPhase(now: now) }
                continue
            }
            chooseRequest(i)
            connect(i, now: now, awaitedByPhase: true)
        }
    }

    /// Connects now if a slot is free; otherwise the connection waits its turn.
    func connect(_ i: Int, now: UInt64, awaitedByPhase: Bool = false) {
        guard connects.hasRoom else {
            conns[i].machine.connectQueued(awaitedByPhase: awaitedByPhase)
            connects.enqueue(i)
            return
        }
        startConnect(i, now: now, awaitedByPhase: awaitedByPhase)
    }

    /// A connect in flight ended: it gives its slot to the next queued connection and, the
    /// first time, tells the connect phase.
    func connectEnded(_ i: Int, _ end: ConnectionStateMachine.ConnectEnd, now: UInt64) {
        if connects.ended(end, now: now) { endConnectPhase(now: now) }
        startQueuedConnects(now: now)
    }

    /// Hands free slots to queued connections, oldest first. Not re-entered: a connect that fails
    /// at once ends inside `startConnect`, and the loop here goes on instead.
    func startQueuedConnects(now: UInt64) {
        guard !connects.draining else { return }
        connects.draining = true
        defer { connects.draining = false }
        while let i = connects.nextQueued() {
            guard case .queued = conns[i].machine.state else { continue }  // retired or rested meanwhile
            startConnect(i, now: now)
        }
    }

    func endConnectPhase(now: UInt64) {
        if let phase = connects.endPhase(now: now) { gate.report(worker: place.slot, phase) }
    }

    /// The gate knows the schedule's start: begin then (at once if it has passed).
    func scheduleBegin() {
        guard lifecycle == .connecting(startArmed: false), let start = gate.start else { return }
        lifecycle = .connecting(startArmed: true)
        // Seconds count from the test's start on every worker (a scenario that begins later
        // reports empty seconds until then), so a second means the same for every scenario.
        intervalOrigin = start
        reactor.schedule(at: start + 1_000_000_000, handler: ids.timer, token: Self.intervalToken)
        reactor.schedule(at: start + place.startAfterNs, handler: ids.timer, token: Self.beginToken)
    }

    /// The measured schedule starts: paced slots and arrivals count from here, the interval
    /// clock runs, and the connections that are ready send.
    func begin(now: UInt64) {
        guard case .connecting = lifecycle, let testStart = gate.start else { return }
        lifecycle = .running
        figures.beganAt = now
        let start = testStart + place.startAfterNs
        let firstArrival = schedule.begin(at: start)
        if schedule.pacesRequests {
            // The connections' first slots spread evenly over the first of them.
            for i in conns.indices { conns[i].nextSend = schedule.sendTime(connection: i, scheduled: 0) }
        }
        if let firstArrival { reactor.schedule(at: firstArrival, handler: ids.timer, token: Self.arrivalToken) }
        for i in conns.indices where conns[i].machine.begin() { proceed(i, now: now) }
        applyDueChanges(now: now)
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
        let source = connects.started()
        do {
            let inProgress = try conns[i].transport.connect(to: address(i), from: source)
            figures.socketOpened()
            conns[i].transport.interest = inProgress ? .writable : .readable
            do { try reactor.register(fd: conns[i].transport.fd, events: conns[i].transport.interest, handler: ids.handler, token: i) } catch {
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
