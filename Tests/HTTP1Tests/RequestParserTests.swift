import Testing
@testable import HTTP1

@Suite struct RequestParserTests {
    @Test func parsesRequestsInAnySplit() throws {
        let raw = Array("POST /tests?x=1&name=a%20b HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbodyGET /ping HTTP/1.1\r\nConnection: close\r\n\r\n".utf8)
        for split in [raw.count, 1, 3, 17] {
            var parser = HTTPRequestParser()
            var buffer: [UInt8] = []
            var requests: [HTTPRequest] = []
            var offset = 0
            while offset < raw.count {
                let end = Swift.min(offset + split, raw.count)
                buffer += raw[offset..<end]
                offset = end
                while let r = try parser.parse(&buffer) { requests.append(r) }
            }
            #expect(requests.count == 2)
            #expect(requests[0].method == "POST" && requests[0].path == "/tests")
            #expect(requests[0].query == ["x": "1", "name": "a b"])
            #expect(requests[0].body == Array("body".utf8))
            #expect(requests[0].header("content-length") == "4" && requests[0].keepAlive)
            #expect(requests[1].path == "/ping" && !requests[1].keepAlive)
            #expect(buffer.isEmpty)
        }
    }

    @Test func refusesMalformedAndOversizedRequests() {
        func parse(_ text: String, maxBody: Int = 16) throws(HTTPParseError) -> HTTPRequest? {
            var parser = HTTPRequestParser(maxHeaderBytes: 256, maxBodyBytes: maxBody)
            var buffer = Array(text.utf8)
            return try parser.parse(&buffer)
        }
        #expect(throws: HTTPParseError.invalidRequestLine) { try parse("GET\r\n\r\n") }
        #expect(throws: HTTPParseError.invalidRequestLine) { try parse("GET / HTTP/2.0\r\n\r\n") }
        #expect(throws: HTTPParseError.invalidRequestLine) { try parse("GET nopath HTTP/1.1\r\n\r\n") }
        #expect(throws: HTTPParseError.invalidHeader) { try parse("GET / HTTP/1.1\r\nno colon\r\n\r\n") }
        #expect(throws: HTTPParseError.invalidContentLength) { try parse("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n") }
        // 1*DIGIT (RFC 9110 §8.6): a sign or an empty value is not a length.
        #expect(throws: HTTPParseError.invalidContentLength) { try parse("POST / HTTP/1.1\r\nContent-Length: +2\r\n\r\nab") }
        #expect(throws: HTTPParseError.invalidContentLength) { try parse("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n") }
        #expect(HTTPResponse.reasonPhrase(408) == "Request Timeout")
        #expect(throws: HTTPParseError.bodyTooLarge(limit: 16)) { try parse("POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n") }
        #expect(throws: HTTPParseError.headersTooLarge(limit: 256)) { try parse("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 300)) }
        #expect(throws: HTTPParseError.self) { try parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") }
        #expect((try? parse("GET / HTTP/1.1\r\nHost: x\r\n"))??.method == nil)
    }

    @Test func responsesEncodeWithLengthAndConnection() {
        let bytes = HTTPResponse(status: 404, headers: [("Content-Type", "application/json")], body: Array("{}".utf8))
            .encode(keepAlive: false)
        #expect(String(decoding: bytes, as: UTF8.self) ==
                "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        var parser = HTTPResponseParser()
        let (_, outcome) = bytes.withUnsafeBytes { parser.parse($0) }
        #expect(outcome == .complete(status: 404, keepAlive: false))
    }
}

@Suite struct URLAndEncoderTests {
    @Test func aHeadExpecting100ContinueIsFlaggedOnceUntilItsBodyComes() throws {
        var parser = HTTPRequestParser()
        var buffer = Array("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n".utf8)
        #expect(try parser.parse(&buffer) == nil)
        let first = parser.takeContinue(), second = parser.takeContinue()
        #expect(first && !second)
        buffer += Array("ok".utf8)
        #expect(try parser.parse(&buffer)?.body == Array("ok".utf8))
        let afterBody = parser.takeContinue()
        #expect(!afterBody)
        // The body already there, HTTP/1.0, or no body: nothing to continue.
        for text in ["POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
                     "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
                     "GET / HTTP/1.1\r\nExpect: 100-continue\r\n\r\n"] {
            var parser = HTTPRequestParser()
            var bytes = Array(text.utf8)
            _ = try parser.parse(&bytes)
            let due = parser.takeContinue()
            #expect(!due, "\(text)")
        }
    }

    @Test func parsesTargets() throws {
        let a = try TargetURL(parsing: "http://127.0.0.1:8080/x?y=1")
        #expect(a.host == "127.0.0.1" && a.port == 8080 && a.pathAndQuery == "/x?y=1" && !a.isTLS)
        let b = try TargetURL(parsing: "HTTPS://example.test")
        #expect(b.port == 443 && b.pathAndQuery == "/" && b.hostHeader == "example.test")
        let c = try TargetURL(parsing: "http://[::1]:9000?q")
        #expect(c.host == "[::1]" && c.bareHost == "::1" && c.port == 9000 && c.pathAndQuery == "/?q")
        for bad in ["ftp://x/", "127.0.0.1:80", "http://", "http://h:0/", "http://h:99999/", "http://h:x/", "http://u@h/", "http://h/a b"] {
            #expect(throws: URLError.self, "\(bad)") { try TargetURL(parsing: bad) }
        }
    }

    @Test func encodesTheRequestOnce() throws {
        let url = try TargetURL(parsing: "http://h:81/p")
        let bytes = try HTTPRequestEncoder.encode(method: "POST", url: url, headers: [("X-A", "1")], body: Array("hi".utf8))
        #expect(String(decoding: bytes, as: UTF8.self) ==
                "POST /p HTTP/1.1\r\nHost: h:81\r\nUser-Agent: stampede\r\nAccept: */*\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nhi")
        #expect(throws: HeaderError.self) { try HTTPRequestEncoder.encode(method: "GET", url: url, headers: [("X", "a\r\nb")]) }
        #expect(throws: HeaderError.self) { try HTTPRequestEncoder.encode(method: "GE T", url: url) }
        var parser = HTTPRequestParser()
        var buffer = bytes
        let request = try parser.parse(&buffer)
        #expect(request?.method == "POST" && request?.body == Array("hi".utf8) && request?.header("x-a") == "1")
    }
}
