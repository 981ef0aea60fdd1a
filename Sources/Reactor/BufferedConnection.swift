/// A server-side connection on a reactor: bytes received and not yet used, bytes waiting to go
/// out, and how it ends. The HTTP server and the WebSocket hub both hold their clients as these.
///
/// Lingering close: a server that answers before reading the whole request (413 on an oversized
/// body) must not close at once, or the kernel answers the unread bytes with a reset and the
/// client may never read the answer. After the answer is written the connection shuts down its
/// sending side and reads and discards, as nginx's `lingering_close` does, until the client
/// closes, the byte budget is spent or the deadline passes.
///
/// Thread-safety: none; used on its reactor's thread.
public final class BufferedConnection {
    public let fd: Int32
    public var input: [UInt8]
    public private(set) var output = OutboundBuffer()
    /// Close once everything queued is written (with a lingering close when `lingerAfterWrite`).
    public private(set) var closeAfterWrite = false
    public private(set) var lingerAfterWrite = false
    /// Set while lingering: input is discarded until the peer closes or this many bytes arrived.
    public private(set) var lingerBudget = 0

    public init(fd: Int32, input: [UInt8] = []) {
        self.fd = fd
        self.input = input
    }

    /// Bytes queued and not yet written.
    public var pending: Int { output.pending }
    public var isLingering: Bool { lingerBudget > 0 }

    public enum ReadOutcome { case received, wouldBlock, closed }

    /// Reads what the socket has (once) through `scratch` and appends it to `input`; while
    /// lingering, discards it. `.closed` on end-of-file, an error, or a spent linger budget.
    public func read(using scratch: UnsafeMutableRawBufferPointer) -> ReadOutcome {
        let result: IOResult<Int>
        do { result = try TCPSocket.read(fd, into: scratch) } catch { return .closed }
        switch result {
        case .wouldBlock: return .wouldBlock
        case .processed(0): return .closed
        case .processed(let n):
            if isLingering {
                lingerBudget -= n
                return lingerBudget > 0 ? .wouldBlock : .closed
            }
            input.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<n]))
            return .received
        }
    }

    public enum WriteOutcome {
        /// Everything is written; the connection stays open.
        case idle
        /// The kernel took part; the rest goes when the socket is writable.
        case pending
        /// Written, and the connection has ended its sending side and now lingers.
        case lingering
        /// Close it now (written and done, or the socket failed).
        case close
    }

    /// Queues bytes and writes what the socket takes.
    public func send(_ bytes: [UInt8], reactor: Reactor) -> WriteOutcome {
        output.append(bytes)
        return flush(reactor: reactor)
    }

    /// Writes what the socket takes of the queue.
    public func flush(reactor: Reactor) -> WriteOutcome {
        do {
            guard try output.flush(fd: fd, reactor: reactor) == .done else { return .pending }
        } catch {
            return .close
        }
        guard closeAfterWrite else { return .idle }
        guard lingerAfterWrite, !isLingering else { return .close }
        do { try TCPSocket.shutdownWrite(fd) } catch { return .close }
        lingerBudget = Self.lingerBytes
        return .lingering
    }

    /// Stops (or resumes) reading from the socket, e.g. while too much output waits for a client
    /// that does not read. False when the interest could not be changed: close the connection.
    public func pauseReading(_ paused: Bool, reactor: Reactor) -> Bool {
        do { try output.pauseReading(paused, fd: fd, reactor: reactor) } catch { return false }
        return true
    }

    public var isReadingPaused: Bool { output.readingPaused }

    /// After what is queued: close. With `linger`, first drain the peer's unread bytes (see the type).
    public func closeWhenWritten(linger: Bool = false) {
        closeAfterWrite = true
        lingerAfterWrite = linger
    }

    /// Bytes a lingering connection reads before giving up on the peer.
    public static let lingerBytes = 64 << 20
    /// How long a lingering connection waits for the peer to finish sending.
    public static let lingerNs: UInt64 = 5_000_000_000
}
