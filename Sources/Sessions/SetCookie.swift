import Glibc
import HTTP1

/// One `Set-Cookie` header value, parsed on its bytes (RFC 6265 §5.2): the name and value as
/// ranges of the header, and the attributes a load test acts on. Other attributes (HttpOnly,
/// SameSite, ...) are read past.
struct SetCookie {
    var name: Range<Int>
    var value: Range<Int>
    /// Where the attributes start: the ";" after the value, or the end.
    var attributesStart: Int
    var attributes: Attributes

    /// What the attributes say. Ranges count from `attributesStart`, so the same attribute
    /// bytes parse to the same value in any header.
    struct Attributes: Sendable, Equatable {
        /// The Domain attribute's value without a leading dot (not lower-cased yet); nil without
        /// one (a host-only cookie).
        var domain: Range<Int>?
        /// The Path attribute's value when it starts with "/" (otherwise the default path applies).
        var path: Range<Int>?
        var secure = false
        var maxAge: Int64?
        var expires: Int64?
        /// A Domain the response's host may not set cookies for: the cookie is refused (counted).
        var refused = false
    }

    /// The last attributes parsed without a Domain, and their bytes: a login answers with the
    /// same attributes every time (`; Path=/; HttpOnly`), so they are parsed once and then only
    /// compared (the parse cost a login about 400 instructions).
    struct Memo: Sendable, Equatable {
        var bytes = ByteStore()
        var attributes: Attributes?
    }

    /// nil when the header is no cookie: no "=" in its first segment, or an empty name. One pass
    /// over the bytes, ranges only.
    init?(_ header: UnsafeRawBufferPointer, host: String, memo: inout Memo) {
        var end = 0, eq = -1
        Self.segment(header, from: 0, end: &end, equals: &eq)
        guard eq >= 0 else { return nil }  // no '=': ignored (§5.2 step 2)
        name = Self.trim(header, 0, eq)
        value = Self.trim(header, eq + 1, end)
        guard !name.isEmpty else { return nil }
        attributesStart = end
        let tail = UnsafeRawBufferPointer(rebasing: header[end...])
        if let known = memo.attributes, memo.bytes.count == tail.count,
           memo.bytes.withUnsafeBytes({ tail.isEmpty || memcmp($0.baseAddress!, tail.baseAddress!, tail.count) == 0 }) {
            attributes = known
            return
        }
        attributes = Self.attributes(tail, host: host)
        // Only what holds for any host is kept: no Domain, nothing refused.
        if attributes.domain == nil && !attributes.refused {
            memo.bytes.removeAll()
            memo.bytes.append(tail)
            memo.attributes = attributes
        }
    }

    /// The attributes in `tail` (from the ";" after the value).
    private static func attributes(_ tail: UnsafeRawBufferPointer, host: String) -> Attributes {
        var a = Attributes()
        var end = 0, eq = -1
        while end < tail.count {
            let start = end + 1
            Self.segment(tail, from: start, end: &end, equals: &eq)
            let key = Self.trim(tail, start, eq >= 0 ? eq : end)
            let val = eq >= 0 ? Self.trim(tail, eq + 1, end) : end..<end
            switch Self.attribute(tail, key) {
            case .domain:
                let d = !val.isEmpty && tail[val.lowerBound] == 46 ? (val.lowerBound + 1)..<val.upperBound : val
                guard !d.isEmpty else { continue }
                // A host may set cookies for itself or a parent domain, never for another site.
                guard CookieJar.domainMatches(host, Self.domainText(tail, d)) else { a.refused = true; return a }
                a.domain = d
            case .path: if !val.isEmpty && tail[val.lowerBound] == 47 { a.path = val }
            case .secure: a.secure = true
            case .maxAge:
                let v = Self.text(tail, val)
                let digits = v.hasPrefix("-") ? v.dropFirst() : Substring(v)
                guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int64(v) else { continue }
                a.maxAge = n
            case .expires: if let t = CookieDate.parse(Substring(Self.text(tail, val))) { a.expires = t }
            case nil: continue
            }
        }
        return a
    }

    /// A Domain value as the jar keeps it: lower-cased.
    static func domainText(_ header: UnsafeRawBufferPointer, _ range: Range<Int>) -> String { text(header, range).lowercased() }

    /// The segment from `start` to the next semicolon (or the end), and its first "=" (-1: none).
    @inline(__always)
    private static func segment(_ bytes: UnsafeRawBufferPointer, from start: Int, end: inout Int, equals: inout Int) {
        var k = start
        equals = -1
        while k < bytes.count {
            let b = bytes[k]
            if b == 59 { break }
            if b == 61 && equals < 0 { equals = k }
            k += 1
        }
        end = k
    }

    /// `start..<end` without surrounding spaces and tabs.
    @inline(__always)
    private static func trim(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Range<Int> {
        var start = start, end = end
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
