import Reactor

/// Told about clients of a `WebSocketHub`. Called on the reactor thread.
public protocol WebSocketHubDelegate: AnyObject {
    /// A client finished its handshake (send it a snapshot now).
    func webSocketHub(_ hub: WebSocketHub, didConnect client: Int)
    /// A text message from a client.
    func webSocketHub(_ hub: WebSocketHub, client: Int, received text: String)
}

/// Serves upgraded WebSocket connections on a reactor: frames in (ping answered, close echoed,
/// protocol errors closed with the RFC's code), text messages out. Every client has a bounded
/// send queue: one that does not read is dropped when its queue overflows, never slowing the
/// others; idle clients are pinged, and one that does not answer within `pongTimeoutNs` is dropped.
public final class WebSocketHub: ReactorHandler, ReactorTimerHandler {
    public let reactor: Reactor
    public weak var delegate: WebSocketHubDelegate?
    public let maxQueuedBytes: Int
    public let pingIntervalNs: UInt64
    public let pongTimeoutNs: UInt64
    private var handlerID = 0
    private var timerID = 0
    private var clients: [Int32: Client] = [:]
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    /// Clients dropped for being slow or silent (for metrics).
    public private(set) var dropped = 0

    private final class Client {
        let io: BufferedConnection
        var parser = WebSocketParser(maxFrameBytes: 64 * 1024, maxMessageBytes: 1 << 20)
        var lastHeard: UInt64
        var pingSentAt: UInt64 = 0
        /// Our close frame is queued: the connection ends once it is written.
        var closing: Bool { io.closeAfterWrite }
        init(fd: Int32, input: [UInt8], now: UInt64) { io = BufferedConnection(fd: fd, input: input); lastHeard = now }
        var fd: Int32 { io.fd }
        var queued: Int { io.pending }
    }

    public init(reactor: Reactor, maxQueuedBytes: Int = 4 << 20, pingIntervalNs: UInt64 = 10_000_000_000,
                pongTimeoutNs: UInt64 = 10_000_000_000) {
        self.reactor = reactor
        self.maxQueuedBytes = maxQueuedBytes
        self.pingIntervalNs = pingIntervalNs
        self.pongTimeoutNs = pongTimeoutNs
        handlerID = reactor.addHandler(self)
        timerID = reactor.addTimerHandler(self)
        reactor.schedule(at: monotonicNanoseconds() + pingIntervalNs / 2, handler: timerID, token: 0)
    }

    deinit { readBuffer.deallocate() }

    public var clientCount: Int { clients.count }

    /// Takes over an upgraded connection (see `HTTPServerReply.upgrade`).
    public func adopt(fd: Int32, pendingOutput: [UInt8], receivedInput: [UInt8]) {
        let client = Client(fd: fd, input: receivedInput, now: monotonicNanoseconds())
        clients[fd] = client
        do { try reactor.register(fd: fd, events: .readable, handler: handlerID, token: Int(fd)) } catch {
            clients[fd] = nil
            reactor.close(fd: fd)
            return
        }
        enqueue(pendingOutput, to: client)
        delegate?.webSocketHub(self, didConnect: Int(fd))
        if !client.io.input.isEmpty { process(client) }
    }

    /// Queues a text message for one client (dropping it if its queue is full).
    public func send(_ text: String, to id: Int) {
        guard let client = clients[Int32(id)], !client.closing else { return }
        enqueue(WebSocketFrameEncoder.encode(.text, Array(text.utf8)), to: client)
    }

    /// Queues a text message for every client; the frame is encoded once.
    public func broadcast(_ text: String) {
        let frame = WebSocketFrameEncoder.encode(.text, Array(text.utf8))
        for client in Array(clients.values) where !client.closing { enqueue(frame, to: client) }
    }

    /// Sends every client a close frame with `code` (1001 when going away) and closes them.
    public func closeAll(code: UInt16, reason: String = "") {
        for client in Array(clients.values) { startClose(client, code: code, reason: reason) }
    }

    public func reactor(_ reactor: Reactor, ready events: IOEvents, fd: Int32, token: Int) {
        guard let client = clients[fd] else { return }
        if events.contains(.writable) { flush(client) }
        guard clients[fd] != nil else { return }
        if events.contains(.readable) || events.contains(.hangup) || events.contains(.error) { read(client) }
    }

    public func reactor(_ reactor: Reactor, timerFired token: Int, now: UInt64) {
        for client in Array(clients.values) {
            if client.pingSentAt != 0 && now - client.pingSentAt > pongTimeoutNs {
                dropped += 1
                drop(client)
            } else if client.pingSentAt == 0 && now - client.lastHeard > pingIntervalNs {
                client.pingSentAt = now
                enqueue(WebSocketFrameEncoder.encode(.ping, Array("stampede".utf8)), to: client)
            }
        }
        reactor.schedule(at: now + pingIntervalNs / 2, handler: timerID, token: 0)
    }

    private func read(_ client: Client) {
        switch client.io.read(using: readBuffer) {
        case .wouldBlock: return
        case .closed: drop(client)
        case .received:
            client.lastHeard = monotonicNanoseconds()
            process(client)
        }
    }

    private func process(_ client: Client) {
        while clients[client.fd] != nil {
            let event: WebSocketEvent?
            do { event = try client.parser.next(&client.io.input) } catch {
                startClose(client, code: error.closeCode, reason: "\(error)")
                return
            }
            guard let event else { return }
            switch event {
            case .ping(let payload): enqueue(WebSocketFrameEncoder.encode(.pong, payload), to: client)
            case .pong: client.pingSentAt = 0
            case .text(let text): delegate?.webSocketHub(self, client: Int(client.fd), received: text)
            case .binary: break
            case .close(let code, _):
                if client.closing { drop(client); return }  // our close was answered
                startClose(client, code: code ?? 1000, reason: "")
                return
            }
        }
    }

    private func startClose(_ client: Client, code: UInt16, reason: String) {
        guard !client.closing else { return }
        // Close once the frame is out; a peer that never reads is dropped by the ping timer.
        client.io.closeWhenWritten()
        enqueue(WebSocketFrameEncoder.close(code: code, reason: reason), to: client, evenIfFull: true)
    }

    private func enqueue(_ frame: [UInt8], to client: Client, evenIfFull: Bool = false) {
        if !evenIfFull && client.queued + frame.count > maxQueuedBytes {
            dropped += 1
            drop(client)
            return
        }
        if client.io.send(frame, reactor: reactor) == .close { drop(client) }
    }

    private func flush(_ client: Client) {
        if client.io.flush(reactor: reactor) == .close { drop(client) }
    }

    private func drop(_ client: Client) {
        guard clients.removeValue(forKey: client.fd) != nil else { return }
        reactor.close(fd: client.fd)
    }
}
