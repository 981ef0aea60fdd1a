import HTTP1

/// The `Cookie` header a request gets, written from the jar's bytes, and RFC 6265's matching.
extension CookieJar {
    /// The `Cookie` header's value for a request (nil: no cookie applies). Expired cookies go.
    public mutating func header(host: String, path: @autoclosure () -> String, secure: Bool, now: Int64) -> String? {
        header(host: CookieHost(host), path: path(), secure: secure, now: now)
    }

    /// The same, for a host prepared once.
    public mutating func header(host: CookieHost, path: @autoclosure () -> String, secure: Bool, now: Int64) -> String? {
        var line = ByteStore()
        guard appendHeader(to: &line, host: host, path: path(), secure: secure, now: now) else { return nil }
        return line.description
    }

    /// The `Cookie` header's value appended to `line` (false: no cookie applies, `line` as it
    /// was), straight from the jar's bytes: longer paths first, then older cookies (§5.4).
    public mutating func appendHeader(to line: inout ByteStore, host: CookieHost, path: @autoclosure () -> String, secure: Bool,
                                      now: Int64) -> Bool {
        dropExpired(now: now)
        // Only locals go into the closure: one that read `self` copied the whole jar into it
        // (about 150 instructions a header).
        let list = self.list
        guard !list.isEmpty else { return false }
        return bytes.withUnsafeBytes { mine in
            if list.count == 1 {
                // One cookie (a session id, the usual case): no list to build.
                guard Self.applies(list[0], host: host, path: path(), secure: secure, in: mine) else { return false }
                Self.appendPair(list[0], from: mine, to: &line)
                return true
            }
            let requestPath = Self.withoutQuery(path())
            var chosen = list.indices.filter { Self.applies(list[$0], host: host, path: requestPath, secure: secure, in: mine) }
            guard !chosen.isEmpty else { return false }
            chosen.sort { a, b in
                list[a].path.count != list[b].path.count ? list[a].path.count > list[b].path.count : list[a].created < list[b].created
            }
            for (n, k) in chosen.enumerated() {
                if n > 0 { line.append(59); line.append(32) }  // "; "
                Self.appendPair(list[k], from: mine, to: &line)
            }
            return true
        }
    }

    @inline(__always)
    private static func appendPair(_ c: Cookie, from mine: UnsafeRawBufferPointer, to line: inout ByteStore) {
        line.append(UnsafeRawBufferPointer(rebasing: mine[c.name]), joinedBy: 61, UnsafeRawBufferPointer(rebasing: mine[c.value]))  // "="
    }

    private mutating func dropExpired(now: Int64) {
        guard now >= earliestExpiry else { return }
        for k in list.indices.reversed() where list[k].expires.map({ $0 <= now }) ?? false { discard(at: k) }
        changed()
    }

    /// Whether the cookie goes with a request to `host` (lower-cased) and `path`.
    @inline(__always)
    private static func applies(_ c: Cookie, host: CookieHost, path: @autoclosure () -> String, secure: Bool, in mine: UnsafeRawBufferPointer) -> Bool {
        guard goes(c, to: host, in: mine), secure || !c.secure else { return false }
        if c.path.count == 1 && mine[c.path.lowerBound] == 47 { return true }
        var requestPath = Self.withoutQuery(path())
        return requestPath.withUTF8 { Self.pathMatches(UnsafeRawBufferPointer($0), mine, c.path) }
    }

    /// Whether a request to `host` gets the cookie back.
    @inline(__always)
    static func goes(_ c: Cookie, to host: CookieHost, in mine: UnsafeRawBufferPointer) -> Bool {
        if c.hostOnly { return host.matches(mine, c.domain) }
        return Self.domainMatches(host.name, String(decoding: UnsafeRawBufferPointer(rebasing: mine[c.domain]), as: UTF8.self))
    }

    /// `host` lower-cased; itself (nothing copied) when it has no upper-case ASCII letter, which
    /// is looked for in its contiguous bytes (a `contains` over `utf8` cost about 70
    /// instructions a byte).
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
    static func pathMatches(_ requestPath: UnsafeRawBufferPointer, _ mine: UnsafeRawBufferPointer, _ cookiePath: Range<Int>) -> Bool {
        guard requestPath.count >= cookiePath.count else { return false }
        for k in 0..<cookiePath.count where requestPath[k] != mine[cookiePath.lowerBound + k] { return false }
        return requestPath.count == cookiePath.count || mine[cookiePath.upperBound - 1] == 47 || requestPath[cookiePath.count] == 47
    }

    /// RFC 6265 §5.1.4's default-path: the request path up to, not including, its last "/".
    static func defaultPath(_ requestPath: String) -> String {
        let path = withoutQuery(requestPath)
        guard path.hasPrefix("/"), let last = path.lastIndex(of: "/"), last != path.startIndex else { return "/" }
        return String(path[..<last])
    }
}
