import Foundation
import HTTP1
import HTTPServer
import Reactor
import Testing
import TestSupport

/// A server on its own reactor thread, with short timeouts, answering 200 to everything.
final class TimedServer {
    final class Handler: HTTPServerHandler {
        func handle(_ request: HTTPRequest, now: UInt64) -> HTTPServerReply { .respond(HTTPResponse(status: 200, body: Array("ok".utf8))) }
    }
    /// Handed to the reactor's thread, which alone uses it from then on.
    struct Loop: @unchecked Sendable { let reactor: Reactor }

    let server: HTTPServer
    private let loop: Loop

    init(requestTimeoutMs: UInt64, idleTimeoutMs: UInt64) throws {
        let reactor = try Reactor()
        server = try HTTPServer(reactor: reactor, host: "127.0.0.1", port: 0, handler: Handler())
        server.requestTimeoutNs = requestTimeoutMs * 1_000_000
        server.idleTimeoutNs = idleTimeoutMs * 1_000_000
        loop = Loop(reactor: reactor)
        let loop = loop
        Thread { try? loop.reactor.run() }.start()
    }

    func stop() { loop.reactor.remote.requestStop() }
}

/// A blocking client socket with a read timeout.
struct RawClient {
    let fd: Int32

    init(port: Int) throws {
        guard let fd = connectLoopback(port: port) else { throw ProcessFailure(description: "connect 127.0.0.1:\(port): errno \(errno)") }
        self.fd = fd
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func send(_ text: String) { _ = text.withCString { write(fd, $0, strlen($0)) } }

    /// Reads until the server closes (or 5 s pass): everything it sent, and when it closed.
    func readToClose() -> (text: String, closedAt: Date?) {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n == 0 { return (String(decoding: data, as: UTF8.self), Date()) }
            if n < 0 { return (String(decoding: data, as: UTF8.self), nil) }  // timed out: still open
            data += buffer[0..<n]
        }
    }

    func close() { Glibc.close(fd) }
}

/// Clients that send half a request, or nothing more after a response, do not hold a connection
/// for ever; one that keeps sending is served on.
@Suite(.serialized) struct ServerTimeoutTests {
    @Test func aRequestThatDoesNotArriveWholeGets408AndTheConnectionCloses() throws {
        let server = try TimedServer(requestTimeoutMs: 400, idleTimeoutMs: 60_000)
        defer { server.stop() }
        let client = try RawClient(port: server.server.port)
        defer { client.close() }
        let sent = Date()
        client.send("GET / HTTP/1.1\r\nHost: x\r\n")  // no blank line: never whole
        let (text, closedAt) = client.readToClose()
        #expect(text.hasPrefix("HTTP/1.1 408") && text.contains(#""field":"request""#), "\(text)")
        let after = closedAt.map { $0.timeIntervalSince(sent) } ?? -1
        #expect(after >= 0.4 && after < 1.5, "closed after \(after) s")
    }

    @Test func anIdleKeepAliveConnectionIsClosedAndABusyOneIsNot() throws {
        let server = try TimedServer(requestTimeoutMs: 60_000, idleTimeoutMs: 600)
        defer { server.stop() }
        let idle = try RawClient(port: server.server.port)
        defer { idle.close() }
        let busy = try RawClient(port: server.server.port)
        defer { busy.close() }
        var buffer = [UInt8](repeating: 0, count: 4096)
        idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(read(idle.fd, &buffer, buffer.count) > 0)
        // The busy client sends a request every 200 ms for 1.6 s, well past the idle timeout.
        var answers = 0
        var idleOpenAt300ms = false
        for k in 0..<8 {
            busy.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            if read(busy.fd, &buffer, buffer.count) > 0 { answers += 1 }
            usleep(200_000)
            if k == 0 {
                // Half the idle timeout in: nothing to read yet, no end of stream either.
                var waiting = pollfd(fd: idle.fd, events: Int16(POLLIN), revents: 0)
                idleOpenAt300ms = poll(&waiting, 1, 0) == 0
            }
        }
        #expect(answers == 8)
        #expect(idleOpenAt300ms)
        // By now (1.6 s) the idle one was closed: end of stream at once.
        var waiting = pollfd(fd: idle.fd, events: Int16(POLLIN), revents: 0)
        #expect(poll(&waiting, 1, 0) == 1 && read(idle.fd, &buffer, buffer.count) == 0)
    }

    /// `Expect: 100-continue` (curl sends it with large bodies and waits a second for it): the
    /// server says 100 Continue once the head is read, then answers the request when its body
    /// has come; a body over the limit is refused at once, without a 100.
    @Test func aClientExpecting100ContinueIsToldToGoOn() throws {
        let server = try TimedServer(requestTimeoutMs: 60_000, idleTimeoutMs: 60_000)
        defer { server.stop() }
        let client = try RawClient(port: server.server.port)
        defer { client.close() }
        var buffer = [UInt8](repeating: 0, count: 4096)
        client.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let interim = read(client.fd, &buffer, buffer.count)
        #expect(interim > 0 && String(decoding: buffer[0..<Swift.max(interim, 0)], as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
        client.send("hello")
        let final = read(client.fd, &buffer, buffer.count)
        #expect(final > 0 && String(decoding: buffer[0..<Swift.max(final, 0)], as: UTF8.self).hasPrefix("HTTP/1.1 200"))

        let large = try RawClient(port: server.server.port)
        defer { large.close() }
        large.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n")
        let (text, _) = large.readToClose()
        #expect(text.hasPrefix("HTTP/1.1 413") && !text.contains("100 Continue"), "\(text)")
    }
}
