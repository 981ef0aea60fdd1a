@testable import HTTP1
import Testing
import TestSupport

/// Feeds `text` to a fresh parser in the given chunk sizes; returns the outcome and the bytes used.
func feed(_ bytes: [UInt8], splits: [Int]? = nil, bodiless: Bool = false, eof: Bool = false) -> (HTTPResponseParser.Outcome, Int) {
    var parser = HTTPResponseParser(maxHeaderBytes: 1024)
    parser.reset(bodiless: bodiless)
    var offset = 0
    var cuts = splits ?? [bytes.count]
    while offset < bytes.count {
        let size = Swift.max(1, Swift.min(cuts.isEmpty ? bytes.count : cuts.removeFirst(), bytes.count - offset))
        let (used, outcome) = bytes[offset..<(offset + size)].withUnsafeBytes { parser.parse($0) }
        offset += used
        if outcome != .needMore { return (outcome, offset) }
    }
    return (eof ? parser.parseEOF() : .needMore, offset)
}

struct Sample {
    let text: String
    let outcome: HTTPResponseParser.Outcome
    var bodiless = false
    var eof = false
}

let validSamples: [Sample] = [
    Sample(text: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", outcome: .complete(status: 200, keepAlive: true)),
    Sample(text: "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nServer: x\r\n\r\n", outcome: .complete(status: 404, keepAlive: true)),
    Sample(text: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n",
           outcome: .complete(status: 200, keepAlive: true)),
    Sample(text: "HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno", outcome: .complete(status: 503, keepAlive: false)),
    Sample(text: "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Upgrade\r\nContent-Length: 1\r\n\r\nx", outcome: .complete(status: 200, keepAlive: true)),
    Sample(text: "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc", outcome: .complete(status: 200, keepAlive: false)),
    Sample(text: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc", outcome: .complete(status: 200, keepAlive: true)),
    Sample(text: "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", outcome: .complete(status: 204, keepAlive: true)),
    Sample(text: "HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n", outcome: .complete(status: 304, keepAlive: true)),
    Sample(text: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", outcome: .complete(status: 200, keepAlive: true), bodiless: true),
    Sample(text: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", outcome: .complete(status: 201, keepAlive: true)),
    Sample(text: "HTTP/1.1 200 OK\r\nServer: old\r\n\r\nbody until the connection closes", outcome: .complete(status: 200, keepAlive: false), eof: true),
    Sample(text: "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", outcome: .complete(status: 200, keepAlive: true)),
    Sample(text: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", outcome: .complete(status: 200, keepAlive: true)),
]

@Suite struct ResponseParserTests {
    @Test(arguments: validSamples.indices)
    func parsesWholeByteByByteAndInRandomSplits(index: Int) {
        let sample = validSamples[index]
        let bytes = Array(sample.text.utf8)
        let (whole, used) = feed(bytes, bodiless: sample.bodiless, eof: sample.eof)
        #expect(whole == sample.outcome, "whole: \(sample.text.debugDescription)")
        #expect(used == bytes.count)
        let (single, _) = feed(bytes, splits: Array(repeating: 1, count: bytes.count), bodiless: sample.bodiless, eof: sample.eof)
        #expect(single == sample.outcome, "byte by byte: \(sample.text.debugDescription)")
        var rng = SeededGenerator(seed: UInt64(index) + 1)
        for _ in 0..<50 {
            let splits = (0..<bytes.count).map { _ in Int.random(in: 1...12, using: &rng) }
            #expect(feed(bytes, splits: splits, bodiless: sample.bodiless, eof: sample.eof).0 == sample.outcome)
        }
    }

    @Test func reportsBytesAfterTheResponse() {
        let bytes = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA".utf8)
        let (outcome, used) = feed(bytes)
        #expect(outcome == .complete(status: 200, keepAlive: true))
        #expect(used == bytes.count - 5)
    }

    @Test func resetAllowsTheNextResponseOnTheSameConnection() {
        var parser = HTTPResponseParser()
        for status in [200, 201, 500] {
            parser.reset()
            let bytes = Array("HTTP/1.1 \(status) X\r\nContent-Length: 1\r\n\r\nz".utf8)
            let (_, outcome) = bytes.withUnsafeBytes { parser.parse($0) }
            #expect(outcome == .complete(status: status, keepAlive: true))
        }
    }

    static let malformed: [(String, HTTPParseError)] = [
        ("GARBAGE\r\n\r\n", .invalidStatusLine),
        ("HTTP/2 200 OK\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1 2x0 OK\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1 099 Low\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", .invalidContentLength),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", .invalidContentLength),
        ("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", .invalidContentLength),
        ("HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n", .invalidHeader),
        ("HTTP/1.1 200 OK\r\nX: a\u{01}b\r\n\r\n", .invalidHeader),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .invalidChunk),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX", .invalidChunk),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n", .invalidChunk),
        ("HTTP/1.1 200 OK\r\nX-Huge: " + String(repeating: "a", count: 2000) + "\r\n\r\n", .headersTooLarge(limit: 1024)),
    ]

    @Test(arguments: malformed.indices)
    func malformedResponsesAreClassified(index: Int) {
        let (text, expected) = Self.malformed[index]
        let bytes = Array(text.utf8)
        #expect(feed(bytes).0 == .error(expected), "\(text.prefix(60).debugDescription)")
        #expect(feed(bytes, splits: Array(repeating: 1, count: bytes.count)).0 == .error(expected))
    }

    @Test func manyChunksAreFineButOneEndlessChunkLineIsNot() {
        var text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        for _ in 0..<2_000 { text += "4;ext=1\r\nabcd\r\n" }  // framing bytes far beyond the header limit in total
        text += "0\r\n\r\n"
        #expect(feed(Array(text.utf8)).0 == .complete(status: 200, keepAlive: true))
        let endless = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;" + String(repeating: "e", count: 2_000)
        #expect(feed(Array(endless.utf8)).0 == .error(.invalidChunk))
    }

    @Test func closedMidMessageIsTruncated() {
        #expect(feed(Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8), eof: true).0 == .error(.truncated))
        #expect(feed(Array("HTTP/1.1 200".utf8), eof: true).0 == .error(.truncated))
        var idle = HTTPResponseParser()
        #expect(idle.parseEOF() == .error(.truncated))
    }

    /// Random and mutated responses (seeded, so a failure replays): the parser never traps, and
    /// gives the same outcome however the bytes are split, as an incremental parser must.
    @Test(arguments: [UInt64(11), 12, 13])
    func randomAndMutatedInputParseTheSameInAnySplit(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        func check(_ bytes: [UInt8], eof: Bool, _ what: String) {
            let whole = feed(bytes, eof: eof)
            let splits = (0..<Swift.max(bytes.count, 1)).map { _ in Int.random(in: 1...16, using: &rng) }
            let split = feed(bytes, splits: splits, eof: eof)
            #expect(whole.0 == split.0, "seed \(seed), \(what) \(bytes): whole \(whole.0), split \(split.0)")
            if case .complete = whole.0 { #expect(whole.1 == split.1, "seed \(seed), \(what): used \(whole.1) vs \(split.1)") }
            #expect(whole.1 <= bytes.count)
        }
        for _ in 0..<1_000 {
            let bytes = (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            check(bytes, eof: Bool.random(using: &rng), "random")
        }
        for sample in validSamples {
            for _ in 0..<100 {
                var bytes = Array(sample.text.utf8)
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                check(bytes, eof: true, "mutated")
            }
        }
    }
}

/// The parser's word-at-a-time helpers against the byte-by-byte definitions they replace.
@Suite struct ParserBytesTests {
    @Test func tokenBytesAreRFC9110sTchar() {
        let tchar = Set("!#$%&'*+-.^_`|~abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        for b in 0...255 { #expect(HTTPBytes.isToken(UInt8(b)) == tchar.contains(UInt8(b)), "byte \(b)") }
    }

    @Test func ordinaryBytesStopAtTheFirstControlByteWhereverItIs() {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<5_000 {
            // Mostly printable and high bytes, a control byte now and then, at every offset and length.
            let bytes = (0..<Int.random(in: 0...40, using: &rng)).map { _ -> UInt8 in
                Int.random(in: 0..<12, using: &rng) == 0 ? UInt8.random(in: 0...32, using: &rng) : UInt8.random(in: 32...255, using: &rng)
            }
            let start = bytes.isEmpty ? 0 : Int.random(in: 0...bytes.count, using: &rng)
            let expected = bytes[start...].prefix { $0 >= 32 }.count
            bytes.withUnsafeBytes { raw in
                #expect(HTTPResponseParser.ordinaryBytes(raw, from: start) == expected, "\(bytes) from \(start)")
            }
        }
    }

    @Test func headerNamesAreClassifiedIgnoringCaseOnly() {
        func classify(_ name: String) -> HTTPResponseParser.Header {
            Array(name.utf8).withUnsafeBytes { HTTPResponseParser.classify($0, from: 0, to: $0.count) }
        }
        #expect(classify("Content-Length") == .contentLength && classify("CONTENT-LENGTH") == .contentLength)
        #expect(classify("transfer-ENCODING") == .transferEncoding && classify("Connection") == .connection)
        for near in ["Content_Length", "Content-Lengtg", "Connectiom", "Transfer-Encodinf", "Xontent-Length", "Connection1"] {
            #expect(classify(near) == .other, "\(near)")
        }
    }

    /// Every stored field, as text: `reset` sets them one by one, so a field it forgets keeps
    /// the last response's value and shows here.
    static func fields(_ parser: HTTPResponseParser) -> [String] {
        Mirror(reflecting: parser).children.map { "\($0.label ?? "?")=\(String(describing: $0.value))" }
    }

    @Test func aResetParserEqualsANewOneInEveryField() {
        // Chunked with a trailer, a kept header and body bytes, a scanner, HTTP/1.0, a close:
        // the fields a response can change.
        let text = "HTTP/1.0 201 Created\r\nConnection: close\r\nSet-Cookie: a=1\r\nTransfer-Encoding: chunked\r\n\r\n" +
            "5\r\nhello\r\n0\r\nX-T: y\r\n\r\n"
        let recorder = HeaderRecorder(names: ["set-cookie"])
        var parser = HTTPResponseParser()
        parser.reset(bodiless: true, bodyScanner: SubstringScanner(Array("ell".utf8)), recorder: recorder, bodyLimit: 4,
                     encodedBodyLimit: 8, encodingIndex: 0)
        parser.reset(bodiless: false, bodyScanner: SubstringScanner(Array("ell".utf8)), recorder: recorder, bodyLimit: 4)
        #expect(Array(text.utf8).withUnsafeBytes { parser.parse($0) }.outcome == .complete(status: 201, keepAlive: false))
        #expect(parser.recorded && parser.bodyScanner?.found == true)
        #expect(Self.fields(parser) != Self.fields(HTTPResponseParser()))
        parser.reset()
        #expect(Self.fields(parser) == Self.fields(HTTPResponseParser()))
    }
}

