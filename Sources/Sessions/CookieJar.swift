import HTTP1

/// A session's cookies, kept as RFC 6265 says where it matters to a load test: Domain (host-only
/// without it), Path (the request path's directory by default), Expires and Max-Age (Max-Age
/// wins; a past date or a Max-Age of 0 deletes), Secure (sent over https only); one `Cookie`
/// header, longer paths first. At most `maxCookies` cookies of at most `maxCookieBytes` each
/// (RFC 6265 §6.1's minimums): anything beyond is counted in `dropped`, never silently lost.
///
/// The cookies' names, values, domains and paths live in one byte array, and each cookie is a
/// few ranges into it: storing, sending and clearing a session's cookies retains, releases and
/// allocates nothing once the array has grown (a jar of Strings cost a login about 1,900
/// instructions, most of them reference counting and String creation).
///
/// Times are wall-clock seconds since the epoch, passed in (Expires is an absolute date), so the
/// jar is tested with any clock. Thread-safety: a value owned by one session.
public struct CookieJar: Sendable, Equatable {
    /// One cookie: where its parts lie in `bytes`, and its attributes.
    struct Cookie: Sendable, Equatable {
        var name: Range<Int>
        var value: Range<Int>
        /// Lower-cased, without a leading dot.
        var domain: Range<Int>
        var path: Range<Int>
        /// Without Domain, the cookie goes back to exactly the host that set it.
        var hostOnly: Bool
        var secure: Bool
        /// Seconds since the epoch; nil: a session cookie (lives as long as the jar).
        var expires: Int64?
        /// Order of creation, for the RFC's tie-break (kept when a cookie is replaced).
        var created: Int
    }

    /// Changed only through the methods below, each of which calls `changed()`.
    private(set) var list: [Cookie] = []
    /// Every cookie's name, value, domain and path bytes; a replaced value of another length is
    /// appended, and the bytes it leaves behind are reclaimed once they are half the array.
    private(set) var bytes = ByteStore()
    private var unusedBytes = 0
    /// The last Set-Cookie attributes parsed (kept across `removeAll`: a parse cache, no cookie).
    private var attributeMemo = SetCookie.Memo()
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

    public static let maxCookies = 50
    public static let maxCookieBytes = 4096

    public init() {}

    /// How many cookies the jar holds.
    public var count: Int { list.count }
    public var isEmpty: Bool { list.isEmpty }

    mutating func changed() {
        version &+= 1
        pathIndependent = true
        earliestExpiry = .max
        for k in list.indices {
            if !isRootPath(list[k].path) { pathIndependent = false }
            if let e = list[k].expires, e < earliestExpiry { earliestExpiry = e }
        }
    }

    /// Empties the jar (a new session with `cookies: session`); the dropped count stays.
    public mutating func removeAll() {
        guard !list.isEmpty else { return }
        list.removeAll(keepingCapacity: true)
        bytes.removeAll()
        unusedBytes = 0
        changed()
    }

    /// Stores one `Set-Cookie` header's value from a response to `host` (no port) and `path`.
    public mutating func store(setCookie header: Substring, host: String, path: @autoclosure () -> String, now: @autoclosure () -> Int64) {
        var text = header
        text.withUTF8 { store(setCookie: UnsafeRawBufferPointer($0), host: host, path: path(), now: now()) }
    }

    /// The same, from the header's bytes, with `path` asked for only when the cookie gives none.
    public mutating func store(setCookie header: UnsafeRawBufferPointer, host: String, path: @autoclosure () -> String,
                               now: @autoclosure () -> Int64) {
        store(setCookie: header, host: CookieHost(host), path: path(), now: now())
    }

    /// The same, for a host prepared once (a load generator makes one per origin). `now` is
    /// read only for a cookie that expires.
    public mutating func store(setCookie header: UnsafeRawBufferPointer, host: CookieHost, path: @autoclosure () -> String,
                               now: @autoclosure () -> Int64) {
        guard header.count <= Self.maxCookieBytes else { dropped += 1; return }
        guard let cookie = SetCookie(header, host: host.name, memo: &attributeMemo) else { return }
        let parsed = cookie.attributes
        guard !parsed.refused else { dropped += 1; return }
        // The attributes' ranges count from their start.
        let domainRange = parsed.domain.map { ($0.lowerBound + cookie.attributesStart)..<($0.upperBound + cookie.attributesStart) }
        let pathRange = parsed.path.map { ($0.lowerBound + cookie.attributesStart)..<($0.upperBound + cookie.attributesStart) }
        var expires = parsed.expires
        let now = expires != nil || parsed.maxAge != nil ? now() : 0
        if let maxAge = parsed.maxAge { expires = maxAge <= 0 ? Int64.min : now &+ maxAge }
        let expired = expires.map { $0 <= now } ?? false
        // Made only where the usual cookie has none: a Domain's lower-cased text, the request's
        // directory for a cookie without a Path.
        let domain = domainRange.map { SetCookie.domainText(header, $0) }
        let defaultPath = pathRange == nil ? Self.defaultPath(path()) : nil
        if let k = firstIndex(header, name: cookie.name, domain: domain, host: host, path: pathRange, defaultPath: defaultPath) {
            if expired { discard(at: k); changed(); return }
            replaceValue(at: k, with: UnsafeRawBufferPointer(rebasing: header[cookie.value]))
            list[k].hostOnly = domain == nil
            list[k].secure = parsed.secure
            list[k].expires = expires
            changed()
            return
        }
        guard !expired else { return }
        guard list.count < Self.maxCookies else { dropped += 1; return }
        let name = append(UnsafeRawBufferPointer(rebasing: header[cookie.name]))
        let value = append(UnsafeRawBufferPointer(rebasing: header[cookie.value]))
        let cookieDomain = domain.map { append($0) } ?? host.bytes.withUnsafeBytes { append($0) }
        let cookiePath = pathRange.map { append(UnsafeRawBufferPointer(rebasing: header[$0])) } ?? append(defaultPath ?? "/")
        list.append(Cookie(name: name, value: value, domain: cookieDomain, path: cookiePath, hostOnly: domain == nil, secure: parsed.secure,
                           expires: expires, created: nextCreation))
        changed()
        nextCreation += 1
    }

    /// The cookie with this name, domain and path (the attribute's, or the default), if the
    /// jar has it.
    private func firstIndex(_ header: UnsafeRawBufferPointer, name: Range<Int>, domain: String?, host: CookieHost, path: Range<Int>?,
                            defaultPath: String?) -> Int? {
        let list = self.list
        guard !list.isEmpty else { return nil }
        return bytes.withUnsafeBytes { mine in
            for k in list.indices {
                let c = list[k]
                guard bytesEqual(mine, c.name, header, name) else { continue }
                guard domain.map({ utf8Equal(mine, c.domain, $0) }) ?? host.matches(mine, c.domain) else { continue }
                if let path { if bytesEqual(mine, c.path, header, path) { return k } } else if utf8Equal(mine, c.path, defaultPath ?? "/") { return k }
            }
            return nil
        }
    }

    /// The value of the cookie `name` the jar would send to `host` (a `cookie` capture).
    public func value(named name: String, host: String) -> String? {
        value(named: name, host: CookieHost(host))
    }

    public func value(named name: String, host: CookieHost) -> String? {
        let list = self.list
        return bytes.withUnsafeBytes { mine in
            guard let k = list.indices.last(where: { utf8Equal(mine, list[$0].name, name) && Self.goes(list[$0], to: host, in: mine) }) else {
                return nil
            }
            return String(decoding: UnsafeRawBufferPointer(rebasing: mine[list[k].value]), as: UTF8.self)
        }
    }

    // MARK: The byte store

    @inline(__always)
    private mutating func append(_ part: UnsafeRawBufferPointer) -> Range<Int> {
        let start = bytes.count
        bytes.append(part)
        return start..<bytes.count
    }

    private mutating func append(_ text: String) -> Range<Int> {
        let start = bytes.count
        bytes.append(text)
        return start..<bytes.count
    }

    /// A login sets the same cookie again and again: a value of the same length is written over
    /// the old one, another goes at the end.
    private mutating func replaceValue(at k: Int, with value: UnsafeRawBufferPointer) {
        let old = list[k].value
        if old.count == value.count {
            bytes.replace(at: old.lowerBound, with: value)
            return
        }
        list[k].value = append(value)
        unusedBytes += old.count
        compactIfWasteful()
    }

    /// Drops a cookie; its bytes are reclaimed with the next compaction.
    mutating func discard(at k: Int) {
        let c = list.remove(at: k)
        unusedBytes += c.name.count + c.value.count + c.domain.count + c.path.count
        compactIfWasteful()
    }

    /// Rewrites the bytes still in use to the front once the unused ones are half of them.
    private mutating func compactIfWasteful() {
        guard unusedBytes > 64 && unusedBytes * 2 > bytes.count else { return }
        var packed = ByteStore()
        bytes.withUnsafeBytes { old in
            func move(_ range: Range<Int>) -> Range<Int> {
                let start = packed.count
                packed.append(UnsafeRawBufferPointer(rebasing: old[range]))
                return start..<packed.count
            }
            for k in list.indices {
                list[k].name = move(list[k].name)
                list[k].value = move(list[k].value)
                list[k].domain = move(list[k].domain)
                list[k].path = move(list[k].path)
            }
        }
        bytes = packed
        unusedBytes = 0
    }

    func isRootPath(_ path: Range<Int>) -> Bool { path.count == 1 && bytes[path.lowerBound] == 47 }
}
