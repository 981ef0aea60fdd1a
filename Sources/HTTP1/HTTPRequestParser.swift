/// A request received by a server.
public struct HTTPRequest: Sendable {
    public var method: String
    /// Request target as sent: path and query.
    public var target: String
    public var minorVersion: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, target: String, minorVersion: Int = 1, headers: [(name: String, value: String)], body: [UInt8]) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.headers = headers
        self.body = body
    }

    /// Path without the query.
    public var path: String { String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]) }

    /// Query parameters (`a=1&b=2`), undecoded except `+` and `%XX`.
    public var query: [String: String] {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return [:] }
        var result: [String: String] = [:]
        for pair in parts[1].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            result[percentDecode(kv[0])] = kv.count == 2 ? percentDecode(kv[1]) : ""
        }
        return result
    }

    /// First value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first(where: { $0.name.lowercased() == lower })?.value
    }

    /// Whether the client wants the connection kept open after the response.
    public var keepAlive: Bool {
        let connection = header("connection")?.lowercased() ?? ""
        let tokens = connection.split(separator: ",").map { $0.trimmingSpaces() }
        if tokens.contains("close") { return false }
        return minorVersion >= 1 || tokens.contains("keep-alive")
    }
}

/// Parses requests out of a server connection's receive buffer. Bounded: a header block over
/// `maxHeaderBytes` or a body over `maxBodyBytes` is an error the server answers with 431/413.
public struct HTTPRequestParser: Sendable {
    public let maxHeaderBytes: Int
    public let maxBodyBytes: Int
    private var scanned = 0
    private var pending: (request: HTTPRequest, headEnd: Int, bodyLength: Int)?
    /// The head in `pending` asked `Expect: 100-continue` and its body has not come yet: the
    /// server says `100 Continue` once (`takeContinue`), so the client sends it without waiting
    /// (curl waits a second otherwise). A body over the limit is refused before that (413).
    private var continueDue = false

    public init(maxHeaderBytes: Int = 64 * 1024, maxBodyBytes: Int = 1 << 20) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }

    /// Removes one complete request from the front of `buffer` and returns it, or returns nil when
    /// more bytes are needed.
    /// - Throws: `HTTPParseError` for malformed or oversized requests; the connection should be
    ///   answered with an error status and closed.
    public mutating func parse(_ buffer: inout [UInt8]) throws(HTTPParseError) -> HTTPRequest? {
        if pending == nil {
            guard let headEnd = findHeadEnd(buffer) else {
                if buffer.count > maxHeaderBytes { throw .headersTooLarge(limit: maxHeaderBytes) }
                return nil
            }
            guard headEnd <= maxHeaderBytes else { throw .headersTooLarge(limit: maxHeaderBytes) }
            pending = try parseHead(buffer[..<headEnd], headEnd: headEnd)
            if let (request, _, bodyLength) = pending, bodyLength > 0, request.minorVersion >= 1,
               request.header("expect")?.lowercased() == "100-continue" {
                continueDue = true
            }
        }
        guard let (request, headEnd, bodyLength) = pending else { return nil }
        guard buffer.count >= headEnd + bodyLength else { return nil }
        continueDue = false
        var complete = request
        complete.body = Array(buffer[headEnd..<(headEnd + bodyLength)])
        buffer.removeFirst(headEnd + bodyLength)
        pending = nil
        scanned = 0
        return complete
    }

    /// True once when the request being read waits for `100 Continue` before sending its body.
    public mutating func takeContinue() -> Bool {
        defer { continueDue = false }
        return continueDue
    }

    private mutating func findHeadEnd(_ buffer: [UInt8]) -> Int? {
        // Resume where the last search stopped (minus 3 for a terminator split across reads).
        var i = Swift.max(0, scanned - 3)
        while i + 3 < buffer.count {
            if buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 { return i + 4 }
            i += 1
        }
        scanned = buffer.count
        return nil
    }

    private func parseHead(_ head: ArraySlice<UInt8>, headEnd: Int) throws(HTTPParseError) -> (HTTPRequest, Int, Int) {
        var lines = head.split(separator: 10, omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
            line.last == 13 ? line.dropLast() : line
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let requestLine = lines.first else { throw .invalidRequestLine }
        let parts = requestLine.split(separator: 32, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(HTTPBytes.isToken),
              let first = parts[1].first, first == UInt8(ascii: "/") || first == UInt8(ascii: "*"),
              !parts[1].contains(where: { $0 < 33 || $0 > 126 }) else { throw .invalidRequestLine }
        let version = parts[2]
        guard version.count == 8, version.starts(with: Array("HTTP/1.".utf8)), let minor = version.last,
              minor >= 48 && minor <= 57 else { throw .invalidRequestLine }

        var headers: [(name: String, value: String)] = []
        var contentLength = 0
        var sawLength = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                  line[..<colon].allSatisfy(HTTPBytes.isToken),
                  !line.contains(where: { $0 < 32 && $0 != 9 }) else { throw .invalidHeader }
            let name = String(decoding: line[..<colon], as: UTF8.self)
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingSpaces()
            let lower = name.lowercased()
            if lower == "content-length" {
                // 1*DIGIT (RFC 9110 §8.6): Int() alone would take "+2".
                guard !value.isEmpty, value.utf8.allSatisfy({ (48...57).contains($0) }), let n = Int(value),
                      !sawLength || n == contentLength else { throw .invalidContentLength }
                contentLength = n
                sawLength = true
            } else if lower == "transfer-encoding" {
                throw .unsupported("Transfer-Encoding in requests (send Content-Length)")
            }
            headers.append((name, value))
        }
        guard contentLength <= maxBodyBytes else { throw .bodyTooLarge(limit: maxBodyBytes) }
        let request = HTTPRequest(method: String(decoding: parts[0], as: UTF8.self),
                                  target: String(decoding: parts[1], as: UTF8.self),
                                  minorVersion: Int(minor - 48), headers: headers, body: [])
        return (request, headEnd, contentLength)
    }
}

/// A response a server sends.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Status line, headers (with Content-Length and Connection added) and body.
    public func encode(keepAlive: Bool, omitBody: Bool = false) -> [UInt8] {
        var text = "HTTP/1.1 \(status) \(Self.reasonPhrase(status))\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        // 1xx and 204 responses carry no Content-Length (RFC 9110 §8.6).
        if status >= 200 && status != 204 { text += "Content-Length: \(body.count)\r\n" }
        if !keepAlive { text += "Connection: close\r\n" }
        text += "\r\n"
        var bytes = Array(text.utf8)
        if !omitBody { bytes += body }
        return bytes
    }

    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 411: return "Length Required"
        case 413: return "Content Too Large"
        case 426: return "Upgrade Required"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs (HTTP's optional whitespace).
    public func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

func percentDecode(_ s: Substring) -> String {
    var bytes: [UInt8] = []
    var it = Array(s.utf8)[...]
    while let b = it.popFirst() {
        if b == UInt8(ascii: "+") { bytes.append(32) }
        else if b == UInt8(ascii: "%"), it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
            bytes.append(v)
            it = it.dropFirst(2)
        } else { bytes.append(b) }
    }
    return String(decoding: bytes, as: UTF8.self)
}
