import Patterns
import Sessions
import StampedeModel
import StampedeWire

/// Where a value a request sends first appeared in a response: the capture that takes it there.
struct Source {
    /// The step whose (last) response had it.
    var step: Int
    /// The capture's kind (json, regex, header, cookie) and its argument.
    var kind: String
    var argument: String
    /// A variable name from where it sat (a JSON key, a form field's name, a header).
    var hint: String
    var describe: String
    /// How many bytes of the body the capture must read to find it (0 for headers and cookies).
    var bodyBytes: Int
}

/// Finds, for a value, the earliest response that gave it, and a capture that reads it from there:
/// each capture is checked against the recorded response before it is proposed.
enum Correlator {
    /// The earliest step before `before` whose response has `value`: headers, then the body; a
    /// value only a `Set-Cookie` carried comes last (the jar sends the cookie itself; this is its
    /// copy in a header or field).
    static func source(of value: String, in steps: [Step], before: Int) -> Source? {
        for s in 0..<before {
            let e = steps[s].last
            for h in e.responseHeaders where h.name.lowercased() != "set-cookie" && h.value == value {
                return Source(step: s, kind: "header", argument: h.name, hint: h.name, describe: "header \(h.name)", bodyBytes: 0)
            }
            guard let text = e.responseText, text.contains(value) else { continue }
            if let found = json(value, in: text) {
                return Source(step: s, kind: "json", argument: found.path.description, hint: found.key, describe: "JSON \(found.path)", bodyBytes: found.end)
            }
            if let found = regex(value, in: text) {
                return Source(step: s, kind: "regex", argument: found.pattern, hint: found.hint, describe: "regex \(found.pattern)", bodyBytes: found.end)
            }
        }
        for s in 0..<before {
            for e in steps[s].entries {
                for h in e.responseHeaders where h.name.lowercased() == "set-cookie" {
                    let pair = h.value.split(separator: ";", maxSplits: 1)[0]
                    guard let eq = pair.firstIndex(of: "=") else { continue }
                    let name = pair[..<eq].trimmingCharacters(in: .whitespaces)
                    let v = pair[pair.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                    if v == value || v.removingPercentEncoding == value {
                        return Source(step: s, kind: "cookie", argument: name, hint: name, describe: "cookie \(name)", bodyBytes: 0)
                    }
                }
            }
        }
        return nil
    }

    /// A path to a JSON leaf whose text is `value`, as the engine's JSON capture finds it.
    static func json(_ value: String, in text: String) -> (path: JSONPath, key: String, end: Int)? {
        let bytes = Array(text.utf8)
        guard let root = JSONValue.parse(bytes) else { return nil }
        var candidates: [(String, String)] = []
        leaves(root, path: "", key: "", matching: value, into: &candidates)
        for (text, key) in candidates {
            guard let path = try? JSONPath(text) else { continue }
            let found = bytes.withUnsafeBytes { path.find(in: $0) }
            if found == value {
                let end = (firstOffset(of: Array(RecordedRequest.jsonEscaped(value).utf8), in: bytes) ?? bytes.count) + value.utf8.count + 1
                return (path, key, end)
            }
        }
        return nil
    }

    private static func leaves(_ v: JSONValue, path: String, key: String, matching value: String, into out: inout [(String, String)]) {
        switch v {
        case .object(let o):
            for (k, child) in o.sorted(by: { $0.key < $1.key }) {
                leaves(child, path: path.isEmpty ? k : "\(path).\(k)", key: k, matching: value, into: &out)
            }
        case .array(let items):
            for (i, child) in items.enumerated() { leaves(child, path: "\(path)[\(i)]", key: key, matching: value, into: &out) }
        case .string(let s) where s == value: out.append((path, key))
        case .number(let n) where String(n) == value || RecordedRequest.numberText(n) == value: out.append((path, key))
        default: break
        }
    }

    /// A regex whose first match's group is `value` in `text`: the literal text before one of its
    /// occurrences (back to the tag or line it sits in, longer when that is not unique), then the
    /// characters it is made of up to the delimiter after it.
    static func regex(_ value: String, in text: String) -> (pattern: String, hint: String, end: Int)? {
        let bytes = Array(text.utf8)
        let needle = Array(value.utf8)
        var from = 0
        var tried = 0
        while let at = firstOffset(of: needle, in: bytes, from: from), tried < 20 {
            tried += 1
            from = at + 1
            let end = at + needle.count
            // Only a whole token: a value inside a longer one is some other value.
            if at > 0, isTokenByte(bytes[at - 1]), isTokenByte(needle[0]) { continue }
            if end < bytes.count, isTokenByte(bytes[end]), isTokenByte(needle[needle.count - 1]) { continue }
            let body = valueClass(needle, after: end < bytes.count ? bytes[end] : nil)
            for reach in [0, 80, 200] {
                let start = prefixStart(bytes, at: at, reach: reach)
                guard at - start >= 4 || start == 0 else { continue }
                let pattern = escaped(bytes[start..<at]) + "(" + body + ")"
                guard let re = try? LinearRegex(pattern), let groups = re.firstMatch(in: text), groups.count > 1,
                      groups[1].map(String.init) == value else { continue }
                return (pattern, hint(Array(bytes[start..<at])), end)
            }
        }
        return nil
    }

    /// Where the literal before a value begins: the tag (`<`) or line it sits in, or `reach` bytes back.
    private static func prefixStart(_ bytes: [UInt8], at: Int, reach: Int) -> Int {
        let limit = max(0, at - max(reach, 60))
        if reach > 0 { return max(0, at - reach) }
        var k = at
        while k > limit {
            let b = bytes[k - 1]
            if b == 10 { return k }
            if b == UInt8(ascii: "<") { return k - 1 }
            k -= 1
        }
        return k
    }

    /// The characters a value is made of, up to its delimiter: `[^"]+` inside quotes, else a class
    /// of the value's own kinds of character.
    private static func valueClass(_ value: [UInt8], after: UInt8?) -> String {
        switch after {
        case UInt8(ascii: "\"")?: return "[^\"]+"
        case UInt8(ascii: "'")?: return "[^']+"
        case UInt8(ascii: "<")?: return "[^<]+"
        default:
            var set = ""
            if value.contains(where: { (65...90).contains($0) }) { set += "A-Z" }
            if value.contains(where: { (97...122).contains($0) }) { set += "a-z" }
            if value.contains(where: { (48...57).contains($0) }) { set += "0-9" }
            var others = Set(value.filter { !(65...90).contains($0) && !(97...122).contains($0) && !(48...57).contains($0) })
            if others.remove(UInt8(ascii: "-")) != nil { set += "\\-" }
            for b in others.sorted() { set += b < 0x20 || b >= 0x7f ? String(format: "\\x%02x", b) : "\\" + String(UnicodeScalar(b)) }
            return "[\(set)]+"
        }
    }

    /// Literal bytes as a pattern: metacharacters escaped, control and non-ASCII bytes as `\xHH`.
    private static func escaped(_ bytes: ArraySlice<UInt8>) -> String {
        var out = ""
        for b in bytes {
            switch b {
            case 10: out += "\\n"
            case 13: out += "\\r"
            case 9: out += "\\t"
            case _ where b < 0x20 || b >= 0x7f: out += String(format: "\\x%02x", b)
            default:
                let c = Character(UnicodeScalar(b))
                out += "\\.^$|?*+()[]{}/".contains(c) ? "\\\(c)" : String(c)
            }
        }
        return out
    }

    /// A name from the literal before a value: the `name="..."` or `id="..."` of its tag, or the
    /// last word (a `"key": "` in text that was not JSON).
    private static func hint(_ prefix: [UInt8]) -> String {
        let text = String(decoding: prefix, as: UTF8.self)
        for attribute in ["name=\"", "name='", "id=\"", "id='"] {
            if let r = text.range(of: attribute, options: .backwards) {
                let rest = text[r.upperBound...]
                let name = rest.prefix { $0 != "\"" && $0 != "'" }
                if !name.isEmpty { return String(name) }
            }
        }
        let words = text.split { !($0.isLetter || $0.isNumber || $0 == "_") }
        return words.last.map(String.init) ?? "value"
    }

    private static func isTokenByte(_ b: UInt8) -> Bool {
        (48...57).contains(b) || (65...90).contains(b) || (97...122).contains(b)
    }

    static func firstOffset(of needle: [UInt8], in bytes: [UInt8], from: Int = 0) -> Int? {
        guard !needle.isEmpty, bytes.count >= needle.count, from <= bytes.count - needle.count else { return nil }
        var k = from
        let first = needle[0]
        while k <= bytes.count - needle.count {
            if bytes[k] == first && bytes[k..<k + needle.count].elementsEqual(needle) { return k }
            k += 1
        }
        return nil
    }
}
