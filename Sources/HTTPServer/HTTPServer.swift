import HTTP1
import Reactor

/// What a server's handler answers: a response now, a response after a delay, or a hand-over of
/// the connection (e.g. a WebSocket upgrade) after an optional response.
public enum HTTPServerReply {
    case respond(HTTPResponse)
    /// Sends the response at monotonic time `at` (ns); later requests on the connection wait.
    case respondAt(UInt64, HTTPResponse)
    /// Hands the connection over (a protocol upgrade): the server stops watching the socket and
    /// calls `takeOver` with it, the encoded `response` still to be written, and any bytes already
    /// received after the request.
    case upgrade(HTTPResponse, takeOver: (_ fd: Int32, _ pendingOutput: [UInt8], _ receivedInput: [UInt8]) -> Void)
    /// The answer comes later (made on another thread, so the reactor answers others meanwhile):
    /// `start` is called at once with `reply`, which is then called once, on the reactor thread.
    /// Later requests on the connection wait; a reply for a connection closed meanwhile is dropped.
    case later(_ start: (_ reply: @escaping (HTTPResponse) -> Void) -> Void)
}

/// Handles requests. Called on the reactor thread.
public protocol HTTPServerHandler: AnyObject {
    func handle(_ request: HTTPRequest, now: UInt64) -> HTTPServerReply
}

/// An HTTP/1.1 server on a `Reactor`: keep-alive, pipelined requests answered in order, bounded
/// header and body sizes (431/413), partial writes resumed on writability, and bounded waits: a
/// request must arrive whole within `requestTimeoutNs` (408), a keep-alive connection may idle for
/// `idleTimeoutNs`, so idle or trickling clients cannot hold descriptors for ever. It owns its
/// listening socket and every accepted connection.
public final class HTTPServer: ReactorHandler, ReactorTimerHandler {
    public let reactor: Reactor
    public let port: Int
    private let listener: Int32
    private let handler: HTTPServerHandler
    private var handlerID = 0
    private var timerID = 0
    private var connections: [Int32: ServerConnection] = [:]
    private let limits: (headers: Int, body: Int)
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    /// From a request's first byte to its last (nginx: client_header_timeout 60 s).
    public var requestTimeoutNs: UInt64 = 30_000_000_000
    /// A connection with no request under way (nginx: keepalive_timeout 75 s).
    public var idleTimeoutNs: UInt64 = 75_000_000_000
    /// Responses not yet taken by the client beyond which the server reads and answers no more of
    /// its pipelined requests until it reads some (NIO's `HTTPServerPipelineHandler` answers one at
    /// a time; nginx stops reading while a response is unsent). Bounds a connection's memory.
    public var maxPendingOutputBytes = 1 << 20
    private var sweepScheduled = false
    private static let sweepToken = -2

    private final class ServerConnection {
        let io: BufferedConnection
        var parser: HTTPRequestParser
        var waitingUntil: UInt64 = 0
        var delayed: (response: HTTPResponse, keepAlive: Bool, head: Bool)?
        /// A `later` answer is being made: nothing more is read or answered until it comes.
        var awaitingReply = false
        /// Set while lingering after an early answer: closed at this time at the latest.
        var lingerUntil: UInt64 = 0
        /// The last byte in or response out; the first byte of the request now arriving (0: none).
        var lastActivity: UInt64
        var requestStartedAt: UInt64 = 0
        /// Set once its descriptor is closed (or handed over): nothing may touch it after.
        var closed = false
        init(fd: Int32, parser: HTTPRequestParser, now: UInt64) {
            io = BufferedConnection(fd: fd)
            self.parser = parser
            lastActivity = now
        }
        var fd: Int32 { io.fd }
    }

    /// Listens on `host:port` (port 0 picks a free one; see `port`).
    /// - Throws: `AddressError` or `IOError` naming the address.
    public init(reactor: Reactor, host: String, port: Int, handler: HTTPServerHandler,
                maxHeaderBytes: Int = 64 * 1024, maxBodyBytes: Int = 1 << 20) throws {
        self.reactor = reactor
        self.handler = handler
        limits = (maxHeaderBytes, maxBodyBytes)
        let address = try SocketAddress.resolve(host: host, port: port)[0]
        listener = try TCPSocket.listen(on: address)
        self.port = TCPSocket.localPort(listener)
        handlerID = reactor.addHandler(self)
        timerID = reactor.addTimerHandler(self)
        try reactor.register(fd: listener, events: .readable, handler: handlerID, token: -1)
    }

    deinit { readBuffer.deallocate() }

    private var listening = true
    /// Failed accepts (descriptor exhaustion and the like); each pauses accepting for 100 ms.
    public private(set) var acceptErrors = 0

    /// Stops accepting new connections (open ones are served on).
    public func stopListening() {
        guard listening else { return }
        listening = false
        reactor.close(fd: listener)
    }

    public func reactor(_ reactor: Reactor, ready events: IOEvents, fd: Int32, token: Int) {
        if token == -1 { acceptAll(); return }
        guard let connection = connections[fd] else { return }
        if events.contains(.writable) {
            flush(connection)
            guard !connection.closed else { return }
            // The client took some output: what waited behind it can be answered now.
            if connection.io.isReadingPaused && connection.io.pending <= maxPendingOutputBytes { processInput(connection) }
        }
        guard !connection.closed else { return }
        if events.contains(.readable) || events.contains(.hangup) || events.contains(.error) { readFrom(connection) }
    }

    public func reactor(_ reactor: Reactor, timerFired token: Int, now: UInt64) {
        if token == Self.sweepToken { sweep(now: now); return }
        if token == -1 {
            // The accept pause is over.
            if listening { do { try reactor.modify(fd: listener, events: .readable) } catch { acceptErrors += 1 } }
            return
        }
        guard let connection = connections[Int32(token)] else { return }
        if connection.io.isLingering {
            if now >= connection.lingerUntil { close(connection) }
            return
        }
        guard let delayed = connection.delayed, now >= connection.waitingUntil else { return }
        connection.delayed = nil
        connection.waitingUntil = 0
        queue(delayed.response, keepAlive: delayed.keepAlive, head: delayed.head, on: connection)
        if !connection.closed { processInput(connection) }
    }

    private func acceptAll() {
        while true {
            do {
                guard case .processed(let fd) = try TCPSocket.accept(listener) else { return }
                do {
                    try reactor.register(fd: fd, events: .readable, handler: handlerID, token: Int(fd))
                } catch {
                    reactor.close(fd: fd)
                    throw error
                }
                connections[fd] = ServerConnection(fd: fd, parser: HTTPRequestParser(maxHeaderBytes: limits.headers,
                                                                                     maxBodyBytes: limits.body),
                                                   now: monotonicNanoseconds())
                scheduleSweep()
            } catch {
                // Out of descriptors (EMFILE/ENFILE) or similar: the pending connection stays queued
                // and the level-triggered listener would wake us at once, forever. Stop watching it
                // for 100 ms instead of spinning.
                acceptErrors += 1
                if listening {
                    do { try reactor.modify(fd: listener, events: []) } catch { acceptErrors += 1 }
                    reactor.schedule(at: monotonicNanoseconds() + 100_000_000, handler: timerID, token: -1)
                }
                return
            }
        }
    }

    private func readFrom(_ connection: ServerConnection) {
        switch connection.io.read(using: readBuffer) {
        case .wouldBlock: return
        case .closed: close(connection)
        case .received:
            let now = monotonicNanoseconds()
            connection.lastActivity = now
            if connection.requestStartedAt == 0 { connection.requestStartedAt = now }
            processInput(connection)
        }
    }

    /// Looks at every connection a few times per timeout: a request not whole in time gets 408, a
    /// connection idle too long is closed (as nginx does both).
    private func scheduleSweep() {
        guard !sweepScheduled else { return }
        sweepScheduled = true
        let every = Swift.min(1_000_000_000, Swift.min(requestTimeoutNs, idleTimeoutNs) / 4)
        reactor.schedule(at: monotonicNanoseconds() + every, handler: timerID, token: Self.sweepToken)
    }

    private func sweep(now: UInt64) {
        sweepScheduled = false
        // A client that stopped taking its responses holds their bytes: as long as an idle one.
        for connection in Array(connections.values) where connection.io.pending > 0 && !connection.io.isLingering
            && now - connection.lastActivity > idleTimeoutNs {
            close(connection)
        }
        for connection in Array(connections.values) where connection.delayed == nil && !connection.awaitingReply && !connection.io.isLingering
            && !connection.io.closeAfterWrite && connection.io.pending == 0 {
            if connection.requestStartedAt != 0 && now - connection.requestStartedAt > requestTimeoutNs {
                let body = Array("{\"error\":\"the request did not arrive whole within \(requestTimeoutNs / 1_000_000_000) s\",\"field\":\"request\"}".utf8)
                connection.io.closeWhenWritten()
                queue(HTTPResponse(status: 408, headers: [("Content-Type", "application/json")], body: body),
                      keepAlive: false, head: false, on: connection)
            } else if connection.requestStartedAt == 0 && now - connection.lastActivity > idleTimeoutNs {
                close(connection)
            }
        }
        if !connections.isEmpty { scheduleSweep() }
    }

    /// Answers every complete request in the input, in order, unless one is waiting on a delay,
    /// the connection closed, or the client left too much output unread (then reading pauses until
    /// it takes some: see `maxPendingOutputBytes`).
    private func processInput(_ connection: ServerConnection) {
        while connection.delayed == nil && !connection.awaitingReply && !connection.io.closeAfterWrite && !connection.closed {
            guard connection.io.pending <= maxPendingOutputBytes else {
                if !connection.io.pauseReading(true, reactor: reactor) { close(connection) }
                return
            }
            let request: HTTPRequest?
            do {
                request = try connection.parser.parse(&connection.io.input)
            } catch {
                let (status, field): (Int, String)
                switch error {
                case .headersTooLarge: (status, field) = (431, "headers")
                case .bodyTooLarge: (status, field) = (413, "body")
                case .unsupported: (status, field) = (501, "headers")
                default: (status, field) = (400, "request")
                }
                let body = Array("{\"error\":\"\(error)\",\"field\":\"\(field)\"}".utf8)
                // The rest of the request is still coming: linger, so the client reads this answer.
                connection.io.closeWhenWritten(linger: true)
                if connection.io.isReadingPaused && !connection.io.pauseReading(false, reactor: reactor) { close(connection); return }
                queue(HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: body),
                      keepAlive: false, head: false, on: connection)
                return
            }
            guard let request else {
                if connection.parser.takeContinue() {
                    // RFC 9110 10.1.1: the head is acceptable, so the client may send the body.
                    handle(connection.io.send(Self.continueLine, reactor: reactor), of: connection)
                    if connection.closed { return }
                }
                // Everything read is answered: take more input (if it was paused).
                if connection.io.isReadingPaused && !connection.io.pauseReading(false, reactor: reactor) { close(connection) }
                return
            }
            let now = monotonicNanoseconds()
            // The next request, if some of it came with this one, started now.
            connection.requestStartedAt = connection.io.input.isEmpty ? 0 : now
            let keepAlive = request.keepAlive
            let head = request.method == "HEAD"
            switch handler.handle(request, now: now) {
            case .respond(let response):
                queue(response, keepAlive: keepAlive, head: head, on: connection)
            case .upgrade(let response, let takeOver):
                connections[connection.fd] = nil
                connection.closed = true
                do { try reactor.deregister(fd: connection.fd) } catch { reactor.close(fd: connection.fd); return }
                takeOver(connection.fd, connection.io.output.unsent + response.encode(keepAlive: true), connection.io.input)
                return
            case .later(let start):
                connection.awaitingReply = true
                var replied = false, starting = true
                start { [weak self, connection] response in
                    guard let self, !replied, !connection.closed else { return }
                    replied = true
                    connection.awaitingReply = false
                    queue(response, keepAlive: keepAlive, head: head, on: connection)
                    // Replied at once: this loop goes on with the next request.
                    if !starting && !connection.closed { processInput(connection) }
                }
                starting = false
            case .respondAt(let at, let response):
                if at <= now {
                    queue(response, keepAlive: keepAlive, head: head, on: connection)
                } else {
                    connection.delayed = (response, keepAlive, head)
                    connection.waitingUntil = at
                    reactor.schedule(at: at, handler: timerID, token: Int(connection.fd))
                }
            }
        }
    }

    private static let continueLine: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private func queue(_ response: HTTPResponse, keepAlive: Bool, head: Bool, on connection: ServerConnection) {
        connection.lastActivity = monotonicNanoseconds()
        if !keepAlive && !connection.io.closeAfterWrite { connection.io.closeWhenWritten() }
        handle(connection.io.send(response.encode(keepAlive: keepAlive, omitBody: head), reactor: reactor), of: connection)
    }

    private func flush(_ connection: ServerConnection) {
        let before = connection.io.pending
        let outcome = connection.io.flush(reactor: reactor)
        if connection.io.pending < before { connection.lastActivity = monotonicNanoseconds() }
        handle(outcome, of: connection)
    }

    private func handle(_ outcome: BufferedConnection.WriteOutcome, of connection: ServerConnection) {
        switch outcome {
        case .idle, .pending: break
        case .close: close(connection)
        case .lingering:
            connection.lingerUntil = monotonicNanoseconds() + BufferedConnection.lingerNs
            reactor.schedule(at: connection.lingerUntil, handler: timerID, token: Int(connection.fd))
        }
    }

    private func close(_ connection: ServerConnection) {
        guard !connection.closed else { return }
        connection.closed = true
        connections[connection.fd] = nil
        reactor.close(fd: connection.fd)
    }
}
