import HTTP1
import Testing

/// The parser keeps the named headers and the body's first bytes only when given a recorder, in
/// any split of the bytes, and a response parses to the same outcome with or without one.
@Suite struct HeaderRecorderTests {
    static let response = Array(("HTTP/1.1 100 Continue\r\nSet-Cookie: early=1\r\n\r\n" +
        "HTTP/1.1 200 OK\r\nServer: x\r\nset-cookie: sid=abc; Path=/\r\nLocation:  /next \r\n" +
        "SET-COOKIE: theme=dark\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n6\r\n \"tok\"\r\n3\r\n}xx\r\n0\r\n\r\n").utf8)

    func parse(_ splits: Int?, recorder: HeaderRecorder?, bodyLimit: Int = 0) -> HTTPResponseParser.Outcome {
        var parser = HTTPResponseParser()
        parser.reset(recorder: recorder, bodyLimit: bodyLimit)
        var offset = 0
        while offset < Self.response.count {
            let size = Swift.min(splits ?? Self.response.count, Self.response.count - offset)
            let (used, outcome) = Self.response[offset..<(offset + size)].withUnsafeBytes { parser.parse($0) }
            offset += used
            if outcome != .needMore { return outcome }
        }
        return .needMore
    }

    @Test(arguments: [nil, 1, 2, 3, 7, 13]) func keepsTheNamedHeadersInAnySplit(_ split: Int?) {
        let recorder = HeaderRecorder(names: ["set-cookie", "location"])
        #expect(parse(split, recorder: recorder, bodyLimit: 9) == .complete(status: 200, keepAlive: true))
        // The interim response's headers are dropped; values keep their inner spaces only.
        #expect(recorder.values(of: 0).map { String(decoding: $0, as: UTF8.self) } == ["sid=abc; Path=/", "theme=dark"])
        #expect(recorder.values(of: 1).map { String(decoding: $0, as: UTF8.self) } == ["/next"])
        // Chunk framing removed, cut at the limit.
        #expect(String(decoding: recorder.body, as: UTF8.self) == "{\"a\": \"to")
        #expect(parse(split, recorder: nil) == .complete(status: 200, keepAlive: true))
    }

    @Test func aReusedRecorderStartsEmptyForTheNextResponse() {
        let recorder = HeaderRecorder(names: ["set-cookie"])
        var parser = HTTPResponseParser()
        parser.reset(recorder: recorder)
        _ = Self.response.withUnsafeBytes { parser.parse($0) }
        #expect(parser.recorded && recorder.values.count == 2)
        parser.reset(recorder: recorder)
        let plain = Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8)
        #expect(plain.withUnsafeBytes { parser.parse($0) }.outcome == .complete(status: 200, keepAlive: true))
        #expect(!parser.recorded && recorder.values.isEmpty && recorder.body.isEmpty)
    }
}
