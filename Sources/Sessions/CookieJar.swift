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

    /// Changed only through the methods below, each of which calls `changed()` (an observer
    /// would copy the array on every mutation).
    public private(set) var cookies: [Cookie] = []
    /// Cookies refused: over `maxCookieBytes`, beyond `maxCookies`, or with a Domain the
    /// response's host may not set.
    public private(set) var dropped = 0
    private var nextCreation = 0
    /// Bumped whenever the cookies change: a `header` computed at one version holds until the
    /// next (and, for cookies that expire, until `earliestExpiry`), so a caller may keep it.
    public private(set) var version = 0
    /// Every cookie's path is "/": the header does not depend on the request's path.
    public private(set) var pathIndependent = true
    /// The first expiry among the cookies (seconds since the epoch; `.max`: none expires).
    public private(set) var earliestExpiry = Int64.max

    private mutating func changed() {
        version &+= 1
        pathIndependent = true
        earliestExpiry = .max
        for c in cookies {
            if c.path != "/" { pathIndependent = false }
            if let e = c.expires, e < earliestExpiry { earliestExpiry = e }
        }
    }

    public static let maxCookies = 50
    public static let maxCookieBytes = 4096

    public init() {}

    /// Empties the jar (a new session with `cookies: session`); the dropped count stays.
    public mutating func removeAll() {
        guard !cookies.isEmpty else { return }
        cookies.removeAll(keepingCapacity: true)
        changed()
    }

    /// Stores one `Set-Cookie` header's value from a response to `host` (no port) and `path`.
    public mutating func store(setCookie header: Substring, host: String, path: @autoclosure () -> String, now: Int64) {
        var text = header
        text.withUTF8 { store(setCookie: UnsafeRawBufferPointer($0), host: host, path: path(), now: now) }
    }

    /// The same, from the header's bytes: parsed on bytes (a login answers one per session), with
    /// `path` asked for only when the cookie gives none.
    public mutating func store(setCookie header: UnsafeRawBufferPointer, host: String, path: @autoclosure () -> String, now: Int64) {
        store(setCookie: header, lowercasedHost: Self.lowercased(host), path: path(), now: now)
    }

    /// The same, for a host already lower-cased (a load generator lower-cases each origin once).
    public mutating func store(setCookie header: UnsafeRawBufferPointer, lowercasedHost host: String, path: @autoclosure () -> String,
                               now: Int64) {
        guard header.count <= Self.maxCookieBytes else { dropped += 1; return }
        let pair = 0..<Self.segmentEnd(header, from: 0)
        guard let eq = header[pair].firstIndex(of: 61) else { return }  // no '=': ignored (§5.2 step 2)
        let nameRange = Self.trim(header, pair.lowerBound..<eq)
        // A login sets the same cookie again and again: its name is kept, not made anew.
        let name = cookies.firstIndex(where: { utf8Equal(header, nameRange, $0.name) }).map { cookies[$0].name } ?? Self.text(header, nameRange)
        let value = Self.text(header, Self.trim(header, (eq + 1)..<pair.upperBound))
        guard !name.isEmpty else { return }
        var domain = host
        var hostOnly = true
        var cookiePath: String?
        var secure = false
        var maxAge: Int64?
        var expires: Int64?
        var next = pair.upperBound + 1
        while next <= header.count {
            let segment = next..<Self.segmentEnd(header, from: next)
            next = segment.upperBound + 1
            let split = header[segment].firstIndex(of: 61)
            let key = Self.trim(header, segment.lowerBound..<(split ?? segment.upperBound))
            let val = split.map { Self.trim(header, ($0 + 1)..<segment.upperBound) } ?? segment.upperBound..<segment.upperBound
            switch Self.attribute(header, key) {
            case .domain:
                var d = Self.text(header, val).lowercased()
                if d.hasPrefix(".") { d.removeFirst() }
                guard !d.isEmpty else { continue }
                // A host may set cookies for itself or a parent domain, never for another site.
                guard Self.domainMatches(host, d) else { dropped += 1; return }
                domain = d
                hostOnly = false
            case .path: if header[val].first == 47 { cookiePath = val.count == 1 ? "/" : Self.text(header, val) }
            case .secure: secure = true
            case .maxAge:
                let v = Self.text(header, val)
                let digits = v.hasPrefix("-") ? v.dropFirst() : Substring(v)
                guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int64(v) else { continue }
                maxAge = n
            case .expires: if let t = CookieDate.parse(Substring(Self.text(header, val))) { expires = t }
            case nil: continue
            }
        }
        let finalPath = cookiePath ?? Self.defaultPath(path())
        if let maxAge { expires = maxAge <= 0 ? Int64.min : now &+ maxAge }
        let expired = expires.map { $0 <= now } ?? false
        if let k = cookies.firstIndex(where: { $0.name == name && $0.domain == domain && $0.path == finalPath }) {
            if expired { cookies.remove(at: k); changed(); return }
            cookies[k].value = value
            cookies[k].hostOnly = hostOnly
            cookies[k].secure = secure
            cookies[k].expires = expires
            changed()
            return
        }
        guard !expired else { return }
        guard cookies.count < Self.maxCookies else { dropped += 1; return }
        cookies.append(Cookie(name: name, value: value, domain: domain, hostOnly: hostOnly, path: finalPath, secure: secure,
                              expires: expires, created: nextCreation))
        changed()
        nextCreation += 1
    }

    /// The `Cookie` header's value for a request (nil: no cookie applies). Expired cookies go.
    public mutating func header(host: String, path: @autoclosure () -> String, secure: Bool, now: Int64) -> String? {
        header(lowercasedHost: Self.lowercased(host), path: path(), secure: secure, now: now)
    }

    /// The `Cookie` header's value appended to `line` (false: no cookie applies, `line` as it
    /// was): the usual single cookie is written from its name's and value's bytes, with no
    /// String built. `host` lower-cased.
    public mutating func appendHeader(to line: inout [UInt8], lowercasedHost host: String, path: @autoclosure () -> String, secure: Bool,
                                      now: Int64) -> Bool {
        dropExpired(now: now)
        if cookies.count == 1 {
            guard Self.applies(cookies[0], host: host, path: path(), secure: secure) else { return false }
            var name = cookies[0].name, value = cookies[0].value
            name.withUTF8 { line.append(contentsOf: $0) }
            line.append(61)  // "="
            value.withUTF8 { line.append(contentsOf: $0) }
            return true
        }
        guard var text = header(lowercasedHost: host, path: path(), secure: secure, now: now) else { return false }
        text.withUTF8 { line.append(contentsOf: $0) }
        return true
    }

    private mutating func dropExpired(now: Int64) {
        guard now >= earliestExpiry else { return }
        cookies.removeAll { $0.expires.map { $0 <= now } ?? false }
        changed()
    }

    /// Whether the one cookie goes with a request to `host` (lower-cased) and `path`.
    private static func applies(_ c: Cookie, host: String, path: @autoclosure () -> String, secure: Bool) -> Bool {
        c.goes(to: host) && (secure || !c.secure) && (c.path == "/" || pathMatches(withoutQuery(path()), c.path))
    }

    /// The same, for a host already lower-cased.
    public mutating func header(lowercasedHost host: String, path: @autoclosure () -> String, secure: Bool, now: Int64) -> String? {
        dropExpired(now: now)
        if cookies.count == 1, let c = cookies.first {
            // One cookie (a session id, the usual case): no lists to build.
            guard Self.applies(c, host: host, path: path(), secure: secure) else { return nil }
            return c.name + "=" + c.value
        }
        let path = Self.withoutQuery(path())
        let matching = cookies.filter { c in c.goes(to: host) && Self.pathMatches(path, c.path) && (secure || !c.secure) }
        guard !matching.isEmpty else { return nil }
        let ordered = matching.sorted { a, b in a.path.count != b.path.count ? a.path.count > b.path.count : a.created < b.created }
        return ordered.map { "\($0.name)=\($0.value)" }.joined(separator: "; ")
    }

    /// The value of the cookie `name` the jar would send to `host` (a `cookie` capture).
    public func value(named name: String, host: String) -> String? {
        let host = Self.lowercased(host)
        return cookies.last { $0.name == name && $0.goes(to: host) }?.value
    }

    /// `host` lower-cased; itself (nothing copied) when it has no upper-case ASCII letter, which
    /// is looked for in its contiguous bytes (a `contains` over `utf8` cost about 70
    /// instructions a byte, a fifth of a login's cookie handling).
    static func lowercased(_ host: String) -> String {
        var host = host
        let upper = host.withUTF8 { bytes in bytes.contains { $0 &- 65 < 26 } }
        return upper ? host.lowercased() : host
    }

    static func withoutQuery(_ path: String) -> String { path.firstIndex(of: "?").map { String(path[..<$0]) } ?? path }

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

    /// Where the segment starting at `start` ends: the next semicolon, or the end.
    private static func segmentEnd(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var k = start
        while k < bytes.count && bytes[k] != 59 { k += 1 }
        return k
    }

    /// Without surrounding spaces and tabs.
    private static func trim(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Range<Int> {
        var start = range.lowerBound, end = range.upperBound
        while start < end, bytes[start] == 32 || bytes[start] == 9 { start += 1 }
        while end > start, bytes[end - 1] == 32 || bytes[end - 1] == 9 { end -= 1 }
        return start..<end
    }

    private static func text(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    private enum Attribute { case domain, path, secure, maxAge, expires }

    /// The attribute a name is, in any case (§5.2: case-insensitive); nil for others.
    private static func attribute(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Attribute? {
        func named(_ name: StaticString) -> Bool {
            guard range.count == name.utf8CodeUnitCount else { return false }
            for k in 0..<range.count where bytes[range.lowerBound + k] | 0x20 != name.utf8Start[k] { return false }
            return true
        }
        switch range.count {
        case 4: return named("path") ? .path : nil
        case 6: return named("domain") ? .domain : named("secure") ? .secure : nil
        case 7: return named("max-age") ? .maxAge : named("expires") ? .expires : nil
        default: return nil
        }
    }
}
