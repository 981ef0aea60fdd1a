import Foundation
import HTTP1
import HTTPServer
import Reactor
import Synchronization
import Testing
import TestSupport

/// A server answering `/later` from another thread 200 ms on (as the orchestrator makes a large
/// test's detail), everything else at once; counts the replies it made for closed connections.
final class LaterServer: @unchecked Sendable {
    final class Handler: HTTPServerHandler {
        weak var owner: LaterServer?
        func handle(_ request: HTTPRequest, now: UInt64) -> HTTPServerReply {
            guard request.path == "/later", let owner else { return .respond(HTTPResponse(status: 200, body: Array("now".utf8))) }
            return .later { reply in owner.replyFromAnotherThread(reply) }
        }
    }

    let server: HTTPServer
    private let reactor: Reactor
    private let handler = Handler()
    private let inbox = Mutex<[@Sendable () -> Void]>([])

    init() throws {
        reactor = try Reactor()
        server = try HTTPServer(reactor: reactor, host: "127.0.0.1", port: 0, handler: handler)
        handler.owner = self
        reactor.onWakeup = { [unowned self] in for work in inbox.withLock({ q in defer { q = [] }; return q }) { work() } }
        Thread { [self] in try? reactor.run() }.start()
    }

    /// Made on a global queue, handed back to the reactor thread, as `.later` asks.
    private func replyFromAnotherThread(_ reply: @escaping (HTTPResponse) -> Void) {
        struct Reply: @unchecked Sendable { let call: (HTTPResponse) -> Void }
        let back = Reply(call: reply)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { [self] in
            inbox.withLock { $0.append { back.call(HTTPResponse(status: 200, body: Array("later".utf8))) } }
            reactor.remote.wake()
        }
    }

    func stop() { reactor.remote.requestStop() }
}

@Suite struct LaterReplyTests {
    @Test func aLaterAnswerComesInOrderAndTheConnectionWaitsForIt() throws {
        let server = try LaterServer()
        defer { server.stop() }
        let client = try RawClient(port: server.server.port)
        defer { client.close() }
        let sent = Date()
        client.send("GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET /now HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let (text, closedAt) = client.readToClose()
        // Pipelined: /now is answered after /later's answer, which came 200 ms on.
        let later = try #require(text.range(of: "later")), now = try #require(text.range(of: "\r\n\r\nnow"))
        #expect(later.upperBound <= now.lowerBound, "\(text)")
        #expect(text.components(separatedBy: "HTTP/1.1 200").count == 3)
        #expect(try #require(closedAt).timeIntervalSince(sent) >= 0.19)
    }

    @Test func aClientGoneBeforeItsLaterAnswerLeavesTheServerServing() throws {
        let server = try LaterServer()
        defer { server.stop() }
        let leaving = try RawClient(port: server.server.port)
        leaving.send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(50_000)
        leaving.close()  // the reply comes for a closed connection: dropped
        usleep(300_000)
        let client = try RawClient(port: server.server.port)
        defer { client.close() }
        client.send("GET /later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let (text, _) = client.readToClose()
        #expect(text.hasPrefix("HTTP/1.1 200") && text.hasSuffix("later"), "\(text)")
    }
}
