import HTTP1
import Testing
import TestSupport
@testable import WebSocket

func masked(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
    WebSocketFrameEncoder.encode(opcode, payload, fin: fin, mask: [0x12, 0x34, 0x56, 0x78])
}

@Suite struct WebSocketParserTests {
    @Test func handshakeAcceptValueMatchesRFC6455() throws {
        // The example of RFC 6455 §1.3.
        #expect(WebSocketHandshake.acceptValue(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        var request = HTTPRequest(method: "GET", target: "/ws", minorVersion: 1, headers: [
            ("Host", "x"), ("Upgrade", "websocket"), ("Connection", "keep-alive, Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")], body: [])
        let response = try WebSocketHandshake.accept(request)
        #expect(response.status == 101)
        #expect(response.headers.contains { $0.name == "Sec-WebSocket-Accept" && $0.value == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" })
        request.headers[4] = ("Sec-WebSocket-Version", "8")
        #expect(throws: WebSocketHandshakeError.self) { try WebSocketHandshake.accept(request) }
    }

    @Test func parsesMaskedFramesFragmentsAndControlFramesInAnySplit() throws {
        var stream: [UInt8] = []
        stream += masked(.text, Array("hello".utf8))
        stream += masked(.text, Array("frag".utf8), fin: false)
        stream += masked(.ping, Array("p".utf8))  // control frames may interleave with fragments
        stream += masked(.continuation, Array("mented ✓".utf8))
        stream += masked(.binary, [UInt8](repeating: 7, count: 70_000))
        stream += masked(.close, [0x03, 0xE8] + Array("bye".utf8))
        let expected: [WebSocketEvent] = [.text("hello"), .ping(Array("p".utf8)), .text("fragmented ✓"),
                                          .binary([UInt8](repeating: 7, count: 70_000)), .close(code: 1000, reason: "bye")]
        for split in [stream.count, 1, 7, 1000] {
            var parser = WebSocketParser(maxFrameBytes: 1 << 20)
            var buffer: [UInt8] = []
            var events: [WebSocketEvent] = []
            var offset = 0
            while offset < stream.count {
                let end = Swift.min(offset + split, stream.count)
                buffer += stream[offset..<end]
                offset = end
                while let e = try parser.next(&buffer) { events.append(e) }
            }
            #expect(events == expected)
        }
    }

    static let violations: [([UInt8], UInt16)] = [
        (WebSocketFrameEncoder.encode(.text, Array("unmasked".utf8)), 1002),
        ([0x81 | 0x40, 0x80, 0, 0, 0, 0], 1002),                                   // RSV1 without an extension
        ([0x83, 0x80, 0, 0, 0, 0], 1002),                                          // reserved opcode
        (masked(.ping, Array("x".utf8), fin: false), 1002),                        // fragmented control frame
        (masked(.ping, [UInt8](repeating: 0, count: 126)), 1002),                  // control frame over 125
        (masked(.continuation, Array("x".utf8)), 1002),                            // nothing to continue
        (masked(.text, Array("a".utf8), fin: false) + masked(.text, Array("b".utf8)), 1002),
        (masked(.text, [0xC3, 0x28]), 1007),                                       // invalid UTF-8
        (masked(.close, [0x03, 0xE8, 0xFF]), 1007),                                // close reason not UTF-8
        (masked(.close, [0x03]), 1002),                                            // 1-byte close payload
        (masked(.close, [0x03, 0xED]), 1002),                                      // 1005 may not be sent
        (masked(.close, [0x00, 0x10]), 1002),                                      // code below 1000
        (masked(.binary, [UInt8](repeating: 1, count: 2000)), 1009),               // over the frame limit
        (masked(.text, [UInt8](repeating: 65, count: 900), fin: false)
            + masked(.continuation, [UInt8](repeating: 65, count: 900)), 1009),    // message over the limit
    ]

    @Test(arguments: violations.indices)
    func violationsCloseWithTheRFCsCode(index: Int) {
        let (bytes, code) = Self.violations[index]
        var parser = WebSocketParser(maxFrameBytes: 1024, maxMessageBytes: 1500)
        var buffer = bytes
        do {
            while try parser.next(&buffer) != nil {}
            Issue.record("no error for violation \(index)")
        } catch {
            #expect(error.closeCode == code, "violation \(index): \(error)")
        }
    }

    /// Everything a parser makes of `bytes` delivered in pieces of the given sizes: its events, and
    /// the error that stopped it.
    func parseAll(_ bytes: [UInt8], pieces: [Int]) -> ([WebSocketEvent], WebSocketError?) {
        var parser = WebSocketParser(maxFrameBytes: 4096)
        var buffer: [UInt8] = []
        var events: [WebSocketEvent] = []
        var offset = 0
        var sizes = pieces
        while offset < bytes.count {
            let n = Swift.min(Swift.max(sizes.isEmpty ? bytes.count : sizes.removeFirst(), 1), bytes.count - offset)
            buffer += bytes[offset..<(offset + n)]
            offset += n
            do {
                while let event = try parser.next(&buffer) { events.append(event) }
            } catch { return (events, error) }
        }
        return (events, nil)
    }

    /// Random bytes and mutated valid frames (seeded, so a failure replays): the parser never
    /// traps, and makes the same events and error of them whether they come whole or byte by byte.
    @Test(arguments: [UInt64(21), 22, 23])
    func randomBytesParseTheSameInAnySplit(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let valid = masked(.text, Array("hello".utf8)) + masked(.ping, [1, 2]) + masked(.binary, [9, 8, 7], fin: false)
            + masked(.continuation, [6]) + masked(.close, [0x03, 0xE8])
        for round in 0..<3_000 {
            var bytes = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if round % 2 == 1 {
                bytes = valid
                for _ in 0..<Int.random(in: 1...3, using: &rng) { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            }
            let whole = parseAll(bytes, pieces: [bytes.count])
            let single = parseAll(bytes, pieces: Array(repeating: 1, count: bytes.count))
            #expect(whole.0 == single.0 && whole.1 == single.1, "seed \(seed) round \(round): \(bytes)")
        }
        let clean = parseAll(valid, pieces: [3, 1, 7])
        #expect(clean.1 == nil && clean.0.count == 4, "\(clean)")
    }
}
