import Reactor
import TLS

/// Tests whose requests go to several origins: each connection keeps one socket per origin it
/// has needed, opened lazily and kept alive while it talks to another (parked).
extension Worker {
    /// The address of the connection's active origin.
    func address(_ i: Int) -> SocketAddress { endpoints[conns[i].origin].address }

    func socketOpened() {
        openSockets += 1
        if openSockets > peakSockets { peakSockets = openSockets }
    }

    /// Parks the active socket (with its TLS session) and takes the one to `origin`, if it is
    /// open; otherwise the connection connects there next.
    func switchOrigin(_ i: Int, to origin: Int) {
        var park = ParkedSocket(fd: conns[i].fd, tls: conns[i].tls, reused: conns[i].reused, interest: conns[i].interest,
                                session: conns[i].session, saveSession: conns[i].saveSession)
        if park.fd >= 0 && park.interest != .readable {
            // Idle: only a close (or bytes nobody asked for) can come.
            do { try reactor.modify(fd: park.fd, events: .readable); park.interest = .readable } catch {
                noteFirstError("\(error)")
                reactor.close(fd: park.fd)
                openSockets -= 1
                park.fd = -1
                park.tls = nil
            }
        }
        let take = conns[i].parked[origin]
        conns[i].parked[conns[i].origin] = park
        conns[i].parked[origin] = ParkedSocket()
        conns[i].origin = origin
        conns[i].fd = take.fd
        conns[i].tls = take.tls
        conns[i].reused = take.reused
        conns[i].interest = take.interest
        conns[i].session = take.session
        conns[i].saveSession = take.saveSession
    }

    /// A parked socket is readable: the server closed it (normal: reopen when needed) or sent
    /// bytes nobody asked for (a parse error). Either way it is closed; its session stays.
    func parkedReady(_ i: Int, fd: Int32) {
        guard let k = conns[i].parked.firstIndex(where: { $0.fd == fd }) else { return }
        // A failed read closes the socket as an end of stream does: it was idle, nothing is lost.
        let bytes: Int?
        if let tls = conns[i].parked[k].tls {
            switch try? tls.read(into: readBuffer) {
            case .wantRead?, .wantWrite?: return  // a TLS record with no data (a session ticket)
            case .done(let n)?: bytes = n
            default: bytes = nil
            }
        } else {
            switch try? TCPSocket.read(fd, into: readBuffer) {
            case .wouldBlock?: return
            case .processed(let n)?: bytes = n
            default: bytes = nil
            }
        }
        if let bytes, bytes > 0 { intervalCounters.errors.parse += 1 }
        closeParked(i, k)
    }

    /// Closes parked sockets: one (`only`), or all of them when the connection retires.
    func closeParked(_ i: Int, _ only: Int? = nil) {
        for k in conns[i].parked.indices where conns[i].parked[k].fd >= 0 && (only == nil || only == k) {
            conns[i].parked[k].tls = nil
            reactor.close(fd: conns[i].parked[k].fd)
            openSockets -= 1
            conns[i].parked[k].fd = -1
            conns[i].parked[k].interest = []
            conns[i].parked[k].reused = false
        }
    }
}
