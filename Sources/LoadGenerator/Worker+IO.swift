import HTTP1
import Reactor
import StampedeModel
import TLS

/// The I/O half of the worker: readiness events, writing the request, reading the response, and
/// the TLS handshake, each reported to the connection's state machine. Plain TCP and TLS take the
/// same paths through `Transport`.
extension Worker {
    func reactor(_ reactor: Reactor, ready events: IOEvents, fd: Int32, token i: Int) {
        if fd != conns[i].transport.fd { parkedReady(i, fd: fd); return }
        switch conns[i].machine.state {
        // A response is timed after it is read: the clock is read there, not here.
        case .reading: readResponse(i)
        case .connecting: connected(i, now: self.now())
        case .handshaking: handshake(i, now: self.now())
        case .writing: writeRequest(i, now: self.now())
        case .waiting, .backoff, .closed, .queued, .ready, .dormant, .retired, .resendPending: readWhileIdle(i, now: self.now())
        }
    }

    /// Carries out what the connection's state machine decided.
    func perform(_ i: Int, _ action: ConnectionStateMachine.Action, now: UInt64) {
        switch action {
        case .none: return
        case .setInterest(let events): setInterest(i, events)
        case .startHandshake: startHandshake(i, now: now)
        case .established(let end, let resend):
            // Only now does the target count as reachable: a certificate that fails
            // verification must end the run as surely as a refused connect.
            figures.second.counters.connects += 1
            if let tls = conns[i].transport.tls {
                figures.second.counters.tlsHandshakes += 1
                if tls.resumed { figures.second.counters.tlsResumed += 1 }
                conns[i].transport.saveSession = true
            }
            recordConnectTimings(i, end, tls: conns[i].transport.tls != nil, now: now)
            connectEnded(i, end, now: now)
            // Level-triggered: a connected socket is always writable, and may wait for its slot.
            if conns[i].transport.interest != .readable { setInterest(i, .readable) }
            if resend {
                // The lost request again, on the fresh connection: no new budget or count; its
                // service time keeps the first send, so the reconnect the user waited for is in it.
                resetParser(i, program: conns[i].current)
                conns[i].written = 0
                writeRequest(i, now: now)
            } else {
                proceed(i, now: now)
            }
        case .complete(let status, let keepAlive): completed(i, status: status, keepAlive: keepAlive, now: now)
        case .retryStale:
            figures.second.counters.retriedStale += 1
            closeSocket(i)
            startConnect(i, now: now)
        case .fail(let kind, let lostRequest, let end, let next):
            failed(i, kind, lostRequest: lostRequest, connect: end, next: next, now: now)
        case .proceed: proceed(i, now: now)
        }
    }

    func setInterest(_ i: Int, _ events: IOEvents) {
        guard conns[i].transport.interest != events, conns[i].transport.isOpen else { return }
        do {
            try reactor.modify(fd: conns[i].transport.fd, events: events)
            conns[i].transport.interest = events
        } catch {
            noteFirstError("\(error)")
            let now = self.now()
            perform(i, conns[i].machine.failed(.read, now: now), now: now)
        }
    }

    /// TCP is up to a TLS origin: put TLS over it and take the handshake's first step.
    func startHandshake(_ i: Int, now: UInt64) {
        guard let tlsContext else { preconditionFailure("a TLS origin without a TLS context") }
        do {
            try conns[i].transport.startTLS(context: tlsContext, serverName: endpoints[conns[i].origin].serverName)
        } catch {
            noteFirstError("\(error)")
            perform(i, conns[i].machine.failed(.tls, now: now), now: now)
            return
        }
        handshake(i, now: now)
    }

    func handshake(_ i: Int, now: UInt64) {
        let step: ConnectionStateMachine.HandshakeStep
        switch conns[i].transport.handshake() {
        case .success(.done): step = .done
        case .success(.wantRead): step = .wantRead
        case .success(.wantWrite): step = .wantWrite
        case .success(.closed):
            noteFirstError("TLS handshake with \(address(i)): connection closed by the server (is it speaking plain HTTP?)")
            step = .failed
        case .failure(let error):
            // "wrong version number": the first bytes back were not a TLS record, e.g. an HTTP answer.
            let hint = error.detail.contains("wrong version number") ? " (the server answered without TLS: is it plain HTTP?)" : ""
            noteFirstError("TLS handshake with \(address(i)): \(error.detail)\(hint)")
            step = .failed
        }
        perform(i, conns[i].machine.handshakeStepped(step, now: now), now: now)
    }

    func writeRequest(_ i: Int, now: UInt64) {
        while true {
            let written = conns[i].written
            let request = conns[i].outgoing
            let rest = UnsafeRawBufferPointer(rebasing: request[written...])
            switch conns[i].transport.write(rest) {
            case .bytes(let n):
                conns[i].written += n
                if conns[i].written == request.count {
                    conns[i].writtenAt = now
                    perform(i, conns[i].machine.requestWritten(), now: now)
                    return
                }
            case .wantWrite: setInterest(i, .writable); return
            case .wantRead: setInterest(i, .readable); return
            case .eof:
                lost(i, .write, "write to \(address(i)): the server closed the connection", now: now)
                return
            case .failed(let error):
                lost(i, .write, "write to \(address(i)): \(error)", now: now)
                return
            }
        }
    }

    /// Reads what the socket holds of the response in flight. The clock is read once the
    /// response is complete (its end), or when the read needs a time for something else.
    func readResponse(_ i: Int) {
        while true {
            switch conns[i].transport.read(into: buffers.read) {
            case .bytes(let n):
                figures.second.counters.bytesRead += n
                let (used, outcome) = conns[i].parser.parse(UnsafeRawBufferPointer(rebasing: buffers.read[..<n]))
                switch outcome {
                case .needMore:
                    let now = self.now()
                    // The response's first byte: its waiting time ends here (one clock reading a
                    // response, taken only when it needs more than one read).
                    if conns[i].firstByteAt == 0 { conns[i].firstByteAt = now }
                    _ = conns[i].machine.responseRead(.needMore, now: now)
                    // Level-triggered: the kernel will report the socket again. TLS may hold
                    // decrypted bytes the socket will not signal, so drain those now.
                    if let tls = conns[i].transport.tls, tls.hasPending { continue }
                    if conns[i].transport.interest != .readable { setInterest(i, .readable) }
                    return
                case .complete(let status, let keepAlive):
                    let now = self.now()
                    if used < n {
                        // Bytes beyond the response we asked for: the stream can no longer be trusted.
                        noteFirstError("response from \(address(i)): \(n - used) byte(s) after its end that no request asked for")
                        perform(i, conns[i].machine.responseRead(.malformed, now: now), now: now)
                        return
                    }
                    perform(i, conns[i].machine.responseRead(.complete(status: status, keepAlive: keepAlive), now: now), now: now)
                    return
                case .error(let error):
                    noteFirstError("response from \(address(i)): \(error)")
                    let now = self.now()
                    perform(i, conns[i].machine.responseRead(.malformed, now: now), now: now)
                    return
                }
            case .wantRead: setInterest(i, .readable); return
            case .wantWrite: setInterest(i, .writable); return
            case .eof:
                let now = self.now()
                if case .complete(let status, _) = conns[i].parser.parseEOF() {
                    perform(i, conns[i].machine.connectionLost(.read, completeAtEOF: status, now: now), now: now)
                } else {
                    lost(i, .read, "response from \(address(i)): the server closed the connection before the response ended", now: now)
                }
                return
            case .failed(let error):
                lost(i, .read, "read from \(address(i)): \(error)", now: self.now())
                return
            }
        }
    }

    /// The connection ended under a request in flight: resent when it may be stale, else a
    /// failure whose text is kept as the first error.
    private func lost(_ i: Int, _ kind: Failure, _ why: @autoclosure () -> String, now: UInt64) {
        let action = conns[i].machine.connectionLost(kind, now: now)
        if case .fail = action { noteFirstError(why()) }
        perform(i, action, now: now)
    }

    /// Readable while no request is in flight: the server closed an idle keep-alive connection
    /// (normal: reconnect when needed) or sent bytes nobody asked for (a parse error). The
    /// connection's state does not change: only its socket is gone.
    func readWhileIdle(_ i: Int, now: UInt64) {
        guard conns[i].transport.isOpen else { return }
        switch conns[i].transport.read(into: buffers.read) {
        case .bytes(let n):
            noteFirstError("\(address(i)) sent \(n) byte(s) while no request was in flight")
            figures.second.counters.errors.parse += 1
            closeSocket(i)
        case .eof, .failed:
            closeSocket(i)
        case .wantRead, .wantWrite:
            return
        }
    }
}

extension Failure {
    /// Counts one failure of this kind (the run's, or a name's).
    func count(into e: inout ErrorCounts) {
        switch self {
        case .connect: e.connect += 1
        case .tls: e.tls += 1
        case .timeout: e.timeout += 1
        case .read: e.read += 1
        case .write: e.write += 1
        case .parse: e.parse += 1
        }
    }
}
