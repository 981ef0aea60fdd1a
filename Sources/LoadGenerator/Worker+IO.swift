import HTTP1
import Reactor
import StampedeModel
import TLS

/// The I/O half of the worker: readiness events, writing the request, reading the response, and
/// the TLS handshake. Plain TCP and TLS take the same paths through `transportRead`/`transportWrite`.
extension Worker {
    func reactor(_ reactor: Reactor, ready events: IOEvents, fd: Int32, token i: Int) {
        let now = monotonicNanoseconds()
        if fd != conns[i].fd { parkedReady(i, fd: fd); return }
        switch conns[i].state {
        case .connecting: connected(i, now: now)
        case .handshaking: handshake(i, now: now)
        case .writing: writeRequest(i, now: now)
        case .reading: readResponse(i, now: now)
        case .waiting, .backoff, .closed, .queued, .ready, .dormant, .retired: readWhileIdle(i, now: now)
        }
    }

    /// How a connection or its request failed (each an `ErrorCounts` kind).
    enum Failure {
        case connect, tls, timeout, read, write, parse

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

    enum TransportResult {
        case bytes(Int)
        case wantRead
        case wantWrite
        case eof
        case failed(String)
    }

    /// TLS steps in the transport's terms.
    @inline(__always)
    private func transportResult(_ step: () throws(TLSError) -> TLSProgress) -> TransportResult {
        do {
            switch try step() {
            case .done(let n): return .bytes(n)
            case .wantRead: return .wantRead
            case .wantWrite: return .wantWrite
            case .closed: return .eof
            }
        } catch { return .failed("\(error)") }
    }

    @inline(__always)
    func transportRead(_ i: Int) -> TransportResult {
        if let tls = conns[i].tls { return transportResult { () throws(TLSError) in try tls.read(into: readBuffer) } }
        do {
            switch try TCPSocket.read(conns[i].fd, into: readBuffer) {
            case .processed(0): return .eof
            case .processed(let n): return .bytes(n)
            case .wouldBlock: return .wantRead
            }
        } catch { return .failed("\(error)") }
    }

    @inline(__always)
    func transportWrite(_ i: Int, _ bytes: UnsafeRawBufferPointer) -> TransportResult {
        if let tls = conns[i].tls { return transportResult { () throws(TLSError) in try tls.write(bytes) } }
        do {
            switch try TCPSocket.write(conns[i].fd, bytes) {
            case .processed(let n): return .bytes(n)
            case .wouldBlock: return .wantWrite
            }
        } catch { return .failed("\(error)") }
    }

    func setInterest(_ i: Int, _ events: IOEvents) {
        guard conns[i].interest != events, conns[i].fd >= 0 else { return }
        do {
            try reactor.modify(fd: conns[i].fd, events: events)
            conns[i].interest = events
        } catch {
            noteFirstError("\(error)")
            fail(i, .read, now: monotonicNanoseconds())
        }
    }

    func handshake(_ i: Int, now: UInt64) {
        guard let tls = conns[i].tls else { return }
        do {
            switch try tls.handshake() {
            case .done:
                established(i, now: now)
                intervalCounters.tlsHandshakes += 1
                if tls.resumed { intervalCounters.tlsResumed += 1 }
                conns[i].saveSession = true
                conns[i].deadline = 0
                setInterest(i, .readable)
                proceed(i, now: now)
            case .wantRead: setInterest(i, .readable)
            case .wantWrite: setInterest(i, .writable)
            case .closed:
                noteFirstError("TLS handshake with \(address(i)): connection closed by the server (is it speaking plain HTTP?)")
                fail(i, .tls, now: now)
            }
        } catch {
            // "wrong version number": the first bytes back were not a TLS record, e.g. an HTTP answer.
            let hint = error.detail.contains("wrong version number") ? " (the server answered without TLS: is it plain HTTP?)" : ""
            noteFirstError("TLS handshake with \(address(i)): \(error.detail)\(hint)")
            fail(i, .tls, now: now)
        }
    }

    func writeRequest(_ i: Int, now: UInt64) {
        while true {
            let written = conns[i].written
            let request = conns[i].outgoing
            let rest = UnsafeRawBufferPointer(rebasing: request[written...])
            switch transportWrite(i, rest) {
            case .bytes(let n):
                conns[i].written += n
                if conns[i].written == request.count {
                    conns[i].state = .reading
                    setInterest(i, .readable)
                    return
                }
            case .wantWrite: setInterest(i, .writable); return
            case .wantRead: setInterest(i, .readable); return
            case .eof:
                if canRetryStale(i) { retryStale(i, now: now) } else { failWrite(i, "the server closed the connection", now: now) }
                return
            case .failed(let text):
                if canRetryStale(i) { retryStale(i, now: now) } else { failWrite(i, text, now: now) }
                return
            }
        }
    }

    func readResponse(_ i: Int, now: UInt64) {
        while true {
            switch transportRead(i) {
            case .bytes(let n):
                intervalCounters.bytesRead += n
                conns[i].responseStarted = true
                let (used, outcome) = conns[i].parser.parse(UnsafeRawBufferPointer(rebasing: readBuffer[..<n]))
                switch outcome {
                case .needMore:
                    // Level-triggered: the kernel will report the socket again. TLS may hold
                    // decrypted bytes the socket will not signal, so drain those now.
                    if let tls = conns[i].tls, tls.hasPending { continue }
                    if conns[i].interest != .readable { setInterest(i, .readable) }
                    return
                case .complete(let status, let keepAlive):
                    if used < n {
                        // Bytes beyond the response we asked for: the stream can no longer be trusted.
                        noteFirstError("response from \(address(i)): \(n - used) byte(s) after its end that no request asked for")
                        fail(i, .parse, now: now)
                        return
                    }
                    completed(i, status: status, keepAlive: keepAlive, now: monotonicNanoseconds())
                    return
                case .error(let error):
                    noteFirstError("response from \(address(i)): \(error)")
                    fail(i, .parse, now: now)
                    return
                }
            case .wantRead: setInterest(i, .readable); return
            case .wantWrite: setInterest(i, .writable); return
            case .eof:
                if case .complete(let status, _) = conns[i].parser.parseEOF() {
                    completed(i, status: status, keepAlive: false, now: monotonicNanoseconds())
                } else if canRetryStale(i) {
                    retryStale(i, now: now)
                } else {
                    noteFirstError("response from \(address(i)): the server closed the connection before the response ended")
                    fail(i, .read, now: now)
                }
                return
            case .failed(let text):
                if canRetryStale(i) { retryStale(i, now: now) } else {
                    noteFirstError("read from \(address(i)): \(text)")
                    fail(i, .read, now: now)
                }
                return
            }
        }
    }

    /// A request could not be written (and cannot be resent).
    private func failWrite(_ i: Int, _ why: String, now: UInt64) {
        noteFirstError("write to \(address(i)): \(why)")
        fail(i, .write, now: now)
    }

    /// Readable while no request is in flight: the server closed an idle keep-alive connection
    /// (normal: reconnect when needed) or sent bytes nobody asked for (a parse error).
    func readWhileIdle(_ i: Int, now: UInt64) {
        guard conns[i].fd >= 0 else { return }
        switch transportRead(i) {
        case .bytes(let n):
            let state = conns[i].state
            noteFirstError("\(address(i)) sent \(n) byte(s) while no request was in flight")
            intervalCounters.errors.parse += 1
            closeSocket(i)
            conns[i].state = state
        case .eof, .failed:
            let state = conns[i].state
            closeSocket(i)
            conns[i].state = state
        case .wantRead, .wantWrite:
            return
        }
    }
}
