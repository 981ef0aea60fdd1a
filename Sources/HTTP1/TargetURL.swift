/// An http or https URL a load test aims at, split into what the client needs.
public struct TargetURL: Sendable, Equatable, CustomStringConvertible {
    public enum Scheme: String, Sendable { case http, https }

    public let scheme: Scheme
    /// Host as written (an IPv6 literal keeps its brackets).
    public let host: String
    public let port: Int
    /// Path and query, at least "/".
    public let pathAndQuery: String

    public var isTLS: Bool { scheme == .https }

    /// The Host header value: the port is omitted when it is the scheme's default.
    public var hostHeader: String {
        (scheme == .http && port == 80) || (scheme == .https && port == 443) ? host : "\(host):\(port)"
    }

    /// Host without IPv6 brackets (for name resolution, SNI and certificate checks).
    public var bareHost: String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    public var description: String { "\(scheme.rawValue)://\(hostHeader)\(pathAndQuery)" }

    /// Scheme, host and port, as `http://host:port`.
    public var origin: String { "\(scheme.rawValue)://\(hostHeader)" }

    /// Whether two URLs share scheme, host and port (and so a connection).
    public func sameOrigin(_ other: TargetURL) -> Bool { scheme == other.scheme && host == other.host && port == other.port }

    /// Parses `http://host[:port][/path][?query]` or https.
    /// - Throws: `URLError` saying what is wrong (scheme, host, port).
    public init(parsing text: String) throws(URLError) {
        let parts = text.split(separator: "://", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw URLError(url: text, reason: "expected http://host[:port]/path or https://...")
        }
        let schemeText = parts[0]
        guard let scheme = Scheme(rawValue: schemeText.lowercased()) else {
            throw URLError(url: text, reason: "scheme must be http or https, not '\(schemeText)'")
        }
        let rest = parts[1]
        let authorityEnd = rest.firstIndex(where: { (c: Character) -> Bool in c == "/" || c == "?" || c == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        if let hash = path.firstIndex(of: "#") { path = String(path[..<hash]) }
        if path.isEmpty || path.hasPrefix("?") { path = "/" + path }
        guard !authority.contains("@") else { throw URLError(url: text, reason: "user info in URLs is not supported") }

        var host = Substring(authority)
        var port = scheme == .https ? 443 : 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw URLError(url: text, reason: "unclosed IPv6 literal") }
            host = authority[...close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()) else { throw URLError(url: text, reason: "invalid port") }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let p = Int(authority[authority.index(after: colon)...]) else { throw URLError(url: text, reason: "invalid port") }
            port = p
        }
        guard !host.isEmpty else { throw URLError(url: text, reason: "missing host") }
        guard (1...65535).contains(port) else { throw URLError(url: text, reason: "port \(port) is outside 1...65535") }
        guard path.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw URLError(url: text, reason: "path must be ASCII without spaces (percent-encode it)")
        }
        self.scheme = scheme
        self.host = String(host)
        self.port = port
        self.pathAndQuery = path
    }
}

public struct URLError: Error, Equatable, CustomStringConvertible {
    public let url: String
    public let reason: String
    public var description: String { "invalid URL '\(url)': \(reason)" }
}
