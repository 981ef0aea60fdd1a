/// One `Set-Cookie` header value, parsed on its bytes (RFC 6265 §5.2): the name and value as
/// ranges of the header, and the attributes a load test acts on. Other attributes (HttpOnly,
/// SameSite, ...) are read past.
struct SetCookie {
    var name: Range<Int>
    var value: Range<Int>
    /// The Domain attribute's value without a leading dot (not lower-cased yet); nil without one
    /// (a host-only cookie).
    var domain: Range<Int>?
    /// The Path attribute's range when it starts with "/" (otherwise the default path applies).
    var path: Range<Int>?
    var secure = false
    var maxAge: Int64?
    var expires: Int64?
    /// A Domain the response's host may not set cookies for: the cookie is refused (counted).
    var refused = false

    /// nil when the header is no cookie: no "=" in its first segment, or an empty name. One pass
    /// over the bytes, ranges only: a value with no String in it copies for free (the first
    /// version, with slices and a String field, cost a login about 900 instructions).
    init?(_ header: UnsafeRawBufferPointer, host: String) {
        var end = 0, eq = -1
        Self.segment(header, from: 0, end: &end, equals: &eq)
        guard eq >= 0 else { return nil }  // no '=': ignored (§5.2 step 2)
        name = Self.trim(header, 0, eq)
        value = Self.trim(header, eq + 1, end)
        guard !name.isEmpty else { return nil }
        while end < header.count {
            let start = end + 1
            Self.segment(header, from: start, end: &end, equals: &eq)
            let key = Self.trim(header, start, eq >= 0 ? eq : end)
            let val = eq >= 0 ? Self.trim(header, eq + 1, end) : end..<end
            switch Self.attribute(header, key) {
            case .domain:
                let d = !val.isEmpty && header[val.lowerBound] == 46 ? (val.lowerBound + 1)..<val.upperBound : val
                guard !d.isEmpty else { continue }
                // A host may set cookies for itself or a parent domain, never for another site.
                guard CookieJar.domainMatches(host, Self.domainText(header, d)) else { refused = true; return }
                domain = d
            case .path: if !val.isEmpty && header[val.lowerBound] == 47 { path = val }
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
