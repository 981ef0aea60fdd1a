/// A session's cookies, kept as RFC 6265 says where it matters to a load test: Domain (host-only
/// without it), Path (the request path's directory by default), Expires and Max-Age (Max-Age
/// wins; a past date or a Max-Age of 0 deletes), Secure (sent over https only); one `Cookie`
/// header, longer paths first. At most `maxCookies` cookies of at most `maxCookieBytes` each
/// (RFC 6265 §6.1's minimums): anything beyond is counted in `dropped`, never silently lost.
///
/// Times are wall-clock seconds since the epoch, passed in (Expires is an absolute date), so the
/// jar is tested with any clock. Thread-safety: a value owned by one session.
public struct CookieJar: Sendable, Equatable {
    public struct Cookie: Sendable, Equatable {
        public var name: String
        public var value: String
        /// Lower-cased, without a leading dot.
        public var domain: String
        /// Without Domain, the cookie goes back to exactly the host that set it.
        public var hostOnly: Bool
        public var path: String
        public var secure: Bool
        /// Seconds since the epoch; nil: a session cookie (lives as long as the jar).
        public var expires: Int64?
        /// Order of creation, for the RFC's tie-break (kept when a cookie is replaced).
        var created: Int

        /// Whether a request to `host` (lower-cased) gets it back.
        func goes(to host: String) -> Bool { hostOnly ? host == domain : CookieJar.domainMatches(host, domain) }
    }

    public private(set) var cookies: [Cookie] = []
    /// Cookies refused: over `maxCookieBytes`, beyond `maxCookies`, or with a Domain the
    /// response's host may not set.
    public private(set) var dropped = 0
    private var nextCreation = 0

    public static let maxCookies = 50
    public static let maxCookieBytes = 4096

    public init() {}

    /// Empties the jar (a new session with `cookies: session`); the dropped count stays.
    public mutating func removeAll() { cookies.removeAll(keepingCapacity: true) }

    /// Stores one `Set-Cookie` header's value from a response to `host` (no port) and `path`.
    public mutating func store(setCookie header: Substring, host: String, path: String, now: Int64) {
        guard header.utf8.count <= Self.maxCookieBytes else { dropped += 1; return }
        let parts = header.split(separator: ";", omittingEmptySubsequences: false)
        guard let pair = parts.first, let eq = pair.firstIndex(of: "=") else { return }  // no '=': ignored (§5.2 step 2)
        let name = trimmed(pair[..<eq])
        let value = trimmed(pair[pair.index(after: eq)...])
        guard !name.isEmpty else { return }
        let host = host.lowercased()
        var domain = host
        var hostOnly = true
        var cookiePath = Self.defaultPath(path)
        var secure = false
        var maxAge: Int64?
        var expires: Int64?
        for attribute in parts.dropFirst() {
            let (key, val) = attribute.firstIndex(of: "=").map { (trimmed(attribute[..<$0]), trimmed(attribute[attribute.index(after: $0)...])) }
                ?? (trimmed(attribute), "")
            switch key.lowercased() {
            case "domain":
                var d = val.lowercased()
                if d.hasPrefix(".") { d.removeFirst() }
                guard !d.isEmpty else { continue }
                // A host may set cookies for itself or a parent domain, never for another site.
                guard Self.domainMatches(host, d) else { dropped += 1; return }
                domain = d
                hostOnly = false
            case "path": if val.hasPrefix("/") { cookiePath = val }
            case "secure": secure = true
            case "max-age":
                let digits = val.hasPrefix("-") ? val.dropFirst() : Substring(val)
                guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int64(val) else { continue }
                maxAge = n
            case "expires": if let t = CookieDate.parse(Substring(val)) { expires = t }
            default: continue
            }
        }
        if let maxAge { expires = maxAge <= 0 ? Int64.min : now &+ maxAge }
        let expired = expires.map { $0 <= now } ?? false
        if let k = cookies.firstIndex(where: { $0.name == name && $0.domain == domain && $0.path == cookiePath }) {
            if expired { cookies.remove(at: k); return }
            cookies[k].value = value
            cookies[k].hostOnly = hostOnly
            cookies[k].secure = secure
            cookies[k].expires = expires
            return
        }
        guard !expired else { return }
        guard cookies.count < Self.maxCookies else { dropped += 1; return }
        cookies.append(Cookie(name: name, value: value, domain: domain, hostOnly: hostOnly, path: cookiePath, secure: secure,
                              expires: expires, created: nextCreation))
        nextCreation += 1
    }

    /// The `Cookie` header's value for a request (nil: no cookie applies). Expired cookies go.
    public mutating func header(host: String, path: String, secure: Bool, now: Int64) -> String? {
        cookies.removeAll { $0.expires.map { $0 <= now } ?? false }
        let host = host.lowercased()
        let path = path.firstIndex(of: "?").map { String(path[..<$0]) } ?? path
        let matching = cookies.filter { c in c.goes(to: host) && Self.pathMatches(path, c.path) && (secure || !c.secure) }
        guard !matching.isEmpty else { return nil }
        let ordered = matching.sorted { a, b in a.path.count != b.path.count ? a.path.count > b.path.count : a.created < b.created }
        return ordered.map { "\($0.name)=\($0.value)" }.joined(separator: "; ")
    }

    /// The value of the cookie `name` the jar would send to `host` (a `cookie` capture).
    public func value(named name: String, host: String) -> String? {
        let host = host.lowercased()
        return cookies.last { $0.name == name && $0.goes(to: host) }?.value
    }

    /// RFC 6265 §5.1.3: the host is the domain, or ends with "." + domain and is not an IP address.
    static func domainMatches(_ host: String, _ domain: String) -> Bool {
        if host == domain { return true }
        guard host.hasSuffix("." + domain) else { return false }
        return !host.allSatisfy { $0 == "." || ($0.isASCII && $0.isNumber) } && !host.contains(":")
    }

    /// RFC 6265 §5.1.4: the cookie path is the request path, or a prefix of it ending at a "/".
    static func pathMatches(_ requestPath: String, _ cookiePath: String) -> Bool {
        guard requestPath.hasPrefix(cookiePath) else { return false }
        return requestPath.count == cookiePath.count || cookiePath.hasSuffix("/")
            || requestPath[requestPath.index(requestPath.startIndex, offsetBy: cookiePath.count)] == "/"
    }

    /// RFC 6265 §5.1.4's default-path: the request path up to, not including, its last "/".
    static func defaultPath(_ requestPath: String) -> String {
        let path = requestPath.firstIndex(of: "?").map { String(requestPath[..<$0]) } ?? requestPath
        guard path.hasPrefix("/"), let last = path.lastIndex(of: "/"), last != path.startIndex else { return "/" }
        return String(path[..<last])
    }

    /// Without surrounding spaces and tabs (on the UTF-8 view: no grapheme breaking per byte).
    private func trimmed(_ s: Substring) -> String {
        let bytes = s.utf8
        var start = bytes.startIndex, end = bytes.endIndex
        while start < end, bytes[start] == 32 || bytes[start] == 9 { start = bytes.index(after: start) }
        while end > start {
            let last = bytes.index(before: end)
            guard bytes[last] == 32 || bytes[last] == 9 else { break }
            end = last
        }
        return String(s[start..<end])
    }
}
