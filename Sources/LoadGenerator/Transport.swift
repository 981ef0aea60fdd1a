import Reactor
import TLS

/// Why a transport call failed: a system call (with its errno) or TLS (with OpenSSL's reason).
enum TransportError: Error, CustomStringConvertible {
    case system(IOError)
    case tls(TLSError)

    var description: String {
        switch self {
        case .system(let e): return e.description
        case .tls(let e): return e.description
        }
    }
}

/// Outcome of one non-blocking read or write, the same for plain TCP and TLS (wrk's three-way
/// OK / RETRY / ERROR, with RETRY split by what the transport waits for).
enum TransportResult {
    case bytes(Int)
    case wantRead
    case wantWrite
    /// The peer closed the stream.
    case eof
    case failed(TransportError)
}

/// One socket to one origin, plain or TLS, and what outlives the socket for that origin (the TLS
/// session to resume). A connection holds its active origin's transport and, in a test over
/// several origins, the others' idle ones (parked). The worker registers the descriptor with its
/// reactor and closes it through `close(on:)`.
///
/// Thread-safety: none; owned by one worker.
struct Transport {
    var fd: Int32 = -1
    var tls: TLSStream?
    /// The events the reactor watches for.
    var interest: IOEvents = []
    /// The socket has carried a whole response and stayed open (a close before the next
    /// response's first byte may be the server's idle timeout, not a failure).
    var reused = false
    /// A TLS session to resume on the next connect; refreshed after a handshake's first response
    /// (`saveSession`: TLS 1.3 tickets arrive after the handshake).
    var session: TLSSavedSession?
    var saveSession = false

    var isOpen: Bool { fd >= 0 }

    /// Opens a non-blocking socket connecting to `address` (`inProgress`: wait until writable).
    mutating func connect(to address: SocketAddress, from source: SocketAddress?) throws(TransportError) -> Bool {
        do {
            let (fd, inProgress) = try TCPSocket.connect(to: address, from: source)
            self.fd = fd
            return inProgress
        } catch { throw .system(error) }
    }

    /// The connect's result: 0, or the errno it failed with.
    var pendingError: Int32 { TCPSocket.pendingError(fd) }

    /// Puts TLS over the connected socket (resuming the saved session if there is one).
    mutating func startTLS(context: TLSContext, serverName: String) throws(TransportError) {
        do { tls = try TLSStream(context: context, fd: fd, serverName: serverName, resume: session) } catch { throw .tls(error) }
    }

    // `mutating` though they change nothing: called on the connection's slot in place, a
    // non-mutating call would copy the struct first and retain its TLS stream and saved session
    // (two retain/release pairs per request, about 80 instructions; callgrind).
    @inline(__always)
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        if let tls { return Self.result { () throws(TLSError) in try tls.read(into: buffer) } }
        do {
            switch try TCPSocket.read(fd, into: buffer) {
            case .processed(0): return .eof
            case .processed(let n): return .bytes(n)
            case .wouldBlock: return .wantRead
            }
        } catch { return .failed(.system(error)) }
    }

    @inline(__always)
    mutating func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult {
        if let tls { return Self.result { () throws(TLSError) in try tls.write(bytes) } }
        do {
            switch try TCPSocket.write(fd, bytes) {
            case .processed(let n): return .bytes(n)
            case .wouldBlock: return .wantWrite
            }
        } catch { return .failed(.system(error)) }
    }

    /// After the first response on a new TLS connection: keep its session for the next connect.
    mutating func saveSessionIfDue() {
        guard saveSession, let tls else { return }
        session = tls.savedSession()
        saveSession = false
    }

    /// Closes the socket (deregistering it); the saved session stays for the next connect.
    /// `clean`: the response said `Connection: close`, so the session stays resumable.
    mutating func close(on reactor: Reactor, clean: Bool = false) {
        guard fd >= 0 else { return }
        if clean { tls?.markCleanClose() }
        tls = nil
        reactor.close(fd: fd)
        fd = -1
        interest = []
        reused = false
    }

    /// Advances the TLS handshake.
    func handshake() -> Result<TLSProgress, TLSError> {
        guard let tls else { preconditionFailure("handshake without TLS") }
        do { return .success(try tls.handshake()) } catch { return .failure(error) }
    }

    @inline(__always)
    private static func result(_ step: () throws(TLSError) -> TLSProgress) -> TransportResult {
        do {
            switch try step() {
            case .done(let n): return .bytes(n)
            case .wantRead: return .wantRead
            case .wantWrite: return .wantWrite
            case .closed: return .eof
            }
        } catch { return .failed(.tls(error)) }
    }
}
