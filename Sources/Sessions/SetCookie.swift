/// One `Set-Cookie` header value, parsed on its bytes (RFC 6265 §5.2): the name and value as
/// ranges of the header, and the attributes a load test acts on. Other attributes (HttpOnly,
/// SameSite, ...) are read past.
struct SetCookie {
    var name: Range<Int>
    var value: Range<Int>
    /// Lower-cased, without a leading dot; nil without a Domain attribute (a host-only cookie).
    var domain: String?
    /// The Path attribute's range when it starts with "/" (otherwise the default path applies).
    var path: Range<Int>?
    var secure = false
    var maxAge: Int64?
    var expires: Int64?
    /// A Domain the response's host may not set cookies for: the cookie is refused (counted).
    var refused = false

    /// nil when the header is no cookie: no "=" in its first segment, or an empty name.
    init?(_ header: UnsafeRawBufferPointer, host: String) {
        let pair = 0..<Self.segmentEnd(header, from: 0)
        guard let eq = header[pair].firstIndex(of: 61) else { return nil }  // no '=': ignored (§5.2 step 2)
        name = Self.trim(header, pair.lowerBound..<eq)
        value = Self.trim(header, (eq + 1)..<pair.upperBound)
        guard !name.isEmpty else { return nil }
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
                guard CookieJar.domainMatches(host, d) else { refused = true; return }
                domain = d
            case .path: if header[val].first == 47 { path = val }
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
