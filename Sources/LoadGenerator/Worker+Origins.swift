import Reactor
import TLS

/// Tests whose requests go to several origins: each connection keeps one socket per origin it
/// has needed, opened lazily and kept alive while it talks to another (parked).
extension Worker {
    /// The address of the connection's active origin.
    func address(_ i: Int) -> SocketAddress { endpoints[conns[i].origin].address }

    /// Parks the active socket (with its TLS session) and takes the one to `origin`, if it is
    /// open; otherwise the connection connects there next.
    func switchOrigin(_ i: Int, to origin: Int) {
        var park = conns[i].transport
        if park.isOpen && park.interest != .readable {
            // Idle: only a close (or bytes nobody asked for) can come.
            do { try reactor.modify(fd: park.fd, events: .readable); park.interest = .readable } catch {
                noteFirstError("\(error)")
                park.close(on: reactor)
                figures.openSockets -= 1
            }
        }
        conns[i].transport = conns[i].parked[origin]
        conns[i].parked[origin] = Transport()
        conns[i].parked[conns[i].origin] = park
        conns[i].origin = origin
    }

    /// A parked socket is readable: the server closed it (normal: reopen when needed) or sent
    /// bytes nobody asked for (a parse error). Either way it is closed; its session stays.
    func parkedReady(_ i: Int, fd: Int32) {
        guard let k = conns[i].parked.firstIndex(where: { $0.fd == fd }) else { return }
        // A failed read closes the socket as an end of stream does: it was idle, nothing is lost.
        switch conns[i].parked[k].read(into: buffers.read) {
        case .wantRead, .wantWrite: return  // a TLS record with no data (a session ticket)
        case .bytes(let n): if n > 0 { figures.second.counters.errors.parse += 1 }
        case .eof, .failed: break
        }
        closeParked(i, k)
    }

    /// Closes parked sockets: one (`only`), or all of them when the connection retires.
    func closeParked(_ i: Int, _ only: Int? = nil) {
        for k in conns[i].parked.indices where conns[i].parked[k].isOpen && (only == nil || only == k) {
            conns[i].parked[k].close(on: reactor)
            figures.openSockets -= 1
        }
    }
}
