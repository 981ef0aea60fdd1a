import ArgumentParser
import Foundation
import HTTP1
import HTTPServer
import Reactor

struct TargetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "target",
        abstract: "Serve a fixed HTTP response on the reactor: a tiny, fast target for trying Stampede out.",
        discussion: """
            Every request gets the same 200 response with a body of --body-bytes bytes, after \
            --delay-ms. --stall-at-s/--stall-ms make it freeze for a while (all responses held) to \
            show what coordinated-omission correction does. Ctrl-C stops it.

            Example: stampede target --listen 127.0.0.1:8080 --body-bytes 100
            """)

    @Option(help: "HOST:PORT to listen on (port 0 picks a free one and prints it).")
    var listen: String = "127.0.0.1:8080"

    @Option(name: .customLong("body-bytes"), help: "Size of the response body.")
    var bodyBytes: Int = 13

    @Option(name: .customLong("delay-ms"), help: "Delay before each response, in milliseconds.")
    var delayMs: Double = 0

    @Option(name: .customLong("stall-at-s"), help: "Seconds after start at which to stall (with --stall-ms).")
    var stallAtS: Double?

    @Option(name: .customLong("stall-ms"), help: "How long the stall lasts: responses due in it are held until it ends.")
    var stallMs: Double = 1000

    @Option(help: "Status code of every response.")
    var status: Int = 200

    func validate() throws {
        guard (0...(1 << 30)).contains(bodyBytes) else { throw ValidationError("--body-bytes: must be in 0...1073741824") }
        guard delayMs >= 0 && delayMs <= 3_600_000 else { throw ValidationError("--delay-ms: must be in 0...3600000") }
        guard (100...999).contains(status) else { throw ValidationError("--status: must be in 100...999") }
        if let s = stallAtS { guard s >= 0 && stallMs > 0 else { throw ValidationError("--stall-at-s/--stall-ms: must be >= 0 and > 0") } }
    }

    func run() throws {
        let (host, port) = try parseListen(listen)
        let reactor = try Reactor()
        let start = monotonicNanoseconds()
        let body = bodyBytes == 13 ? Array("Hello, world!".utf8) : [UInt8](repeating: UInt8(ascii: "x"), count: bodyBytes)
        let handler = FixedResponder(response: HTTPResponse(status: status, headers: [("Content-Type", "text/plain")], body: body),
                                     delayNs: UInt64(delayMs * 1e6),
                                     stall: stallAtS.map { (start + UInt64($0 * 1e9), start + UInt64(($0 + stallMs / 1000) * 1e9)) })
        let server: HTTPServer
        do { server = try HTTPServer(reactor: reactor, host: host, port: port, handler: handler) } catch {
            printError("stampede target: cannot listen on \(listen): \(error)")
            throw ExitCode(1)
        }
        let remote = reactor.remote
        let signals = SignalHandlers { remote.requestStop() }
        // Unbuffered, so a script waiting for this line sees it at once even through a pipe.
        let shown = host.contains(":") ? "[\(host)]" : host
        FileHandle.standardOutput.write(Data("stampede target listening on http://\(shown):\(server.port)/\n".utf8))
        try reactor.run()
        signals.cancel()
    }
}

/// The target's handler: one prebuilt response, optionally delayed or held through a stall.
final class FixedResponder: HTTPServerHandler {
    let response: HTTPResponse
    let delayNs: UInt64
    let stall: (start: UInt64, end: UInt64)?

    init(response: HTTPResponse, delayNs: UInt64, stall: (UInt64, UInt64)?) {
        self.response = response
        self.delayNs = delayNs
        self.stall = stall
    }

    func handle(_ request: HTTPRequest, now: UInt64) -> HTTPServerReply {
        var due = now + delayNs
        if let stall, due >= stall.start && due < stall.end { due = stall.end }
        return due > now ? .respondAt(due, response) : .respond(response)
    }
}
