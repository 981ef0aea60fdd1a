/// A strict JSON reader over bytes, value by value, for the one message that arrives many times a
/// second (`interval`: every driver, every second). Foundation's decoder spent most of a 100-driver
/// second's merge in the Codable machinery (generic containers, metadata lookups, a dictionary of
/// keys per object); this reads straight into the fields.
///
/// Stricter than Foundation's, never looser: RFC 8259 syntax only, strings valid UTF-8 without raw
/// control characters, integers without fraction or exponent, a name at most once per object,
/// nesting at most `maxDepth` deep. Everything it refuses says where: the field path and the byte.
struct JSONReader {
    /// Why the bytes could not be read: the field (as on the wire, outermost first), the byte
    /// offset, and what was wrong.
    struct Failure: Error, CustomStringConvertible {
        var path: [String] = []
        let offset: Int
        let problem: String

        var description: String {
            path.isEmpty ? "\(problem) at byte \(offset)" : "'\(path.joined(separator: "."))': \(problem) at byte \(offset)"
        }
    }

    static let maxDepth = 64

    private let bytes: [UInt8]
    private(set) var offset = 0
    private var depth = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    private func failure(_ problem: String) -> Failure { Failure(offset: offset, problem: problem) }

    private mutating func skipSpace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    /// The next byte that is not white space (nil at the end).
    private mutating func peek() -> UInt8? {
        skipSpace()
        return offset < bytes.count ? bytes[offset] : nil
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(Failure) {
        guard peek() == byte else { throw failure("expected \(what)") }
        offset += 1
    }

    /// Only white space left.
    mutating func end() throws(Failure) {
        guard peek() == nil else { throw failure("unexpected bytes after the message") }
    }

    /// `null`, consumed; false (and nothing consumed) for any other value.
    mutating func null() throws(Failure) -> Bool {
        guard peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let text = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard offset + text.count <= bytes.count, bytes[offset..<offset + text.count].elementsEqual(text) else {
            throw failure("expected \(word)")
        }
        offset += text.count
    }

    /// Reads an object, handing each name to `value`, which must read (or `skip`) its value. A
    /// failure inside a value is given that name in its path.
    mutating func object(_ value: (inout JSONReader, String) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "{"), "an object")
        depth += 1
        guard depth <= Self.maxDepth else { throw failure("nested deeper than \(Self.maxDepth)") }
        var names = NamesSeen()
        if peek() == UInt8(ascii: "}") { offset += 1; depth -= 1; return }
        while true {
            guard peek() == UInt8(ascii: "\"") else { throw failure("expected a name in quotes") }
            let nameAt = offset
            let name = try string()
            guard names.insert(name) else { throw Failure(offset: nameAt, problem: "'\(name)' given twice") }
            try expect(UInt8(ascii: ":"), "':'")
            do { try value(&self, name) } catch { var e = error; e.path.insert(name, at: 0); throw e }
            switch peek() {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"): offset += 1; depth -= 1; return
            default: throw failure("expected ',' or '}'")
            }
        }
    }

    /// Reads an array, calling `element` for each value.
    mutating func array(_ element: (inout JSONReader) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "["), "an array")
        depth += 1
        guard depth <= Self.maxDepth else { throw failure("nested deeper than \(Self.maxDepth)") }
        if peek() == UInt8(ascii: "]") { offset += 1; depth -= 1; return }
        var index = 0
        while true {
            do { try element(&self) } catch { var e = error; e.path.insert("\(index)", at: 0); throw e }
            index += 1
            switch peek() {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"): offset += 1; depth -= 1; return
            default: throw failure("expected ',' or ']'")
            }
        }
    }

    /// Any value, read and dropped (a name this build does not know).
    mutating func skip() throws(Failure) {
        switch peek() {
        case UInt8(ascii: "{"): try object { (r, _) throws(Failure) in try r.skip() }
        case UInt8(ascii: "["): try array { (r) throws(Failure) in try r.skip() }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try double()
        }
    }

    mutating func string() throws(Failure) -> String {
        try expect(UInt8(ascii: "\""), "a string")
        let start = offset
        var ascii = true
        while offset < bytes.count {
            let b = bytes[offset]
            if b == UInt8(ascii: "\"") {
                defer { offset += 1 }
                if ascii { return String(decoding: bytes[start..<offset], as: UTF8.self) }
                guard let text = String(validating: bytes[start..<offset], as: UTF8.self) else { throw failure("a string that is not UTF-8") }
                return text
            }
            if b == UInt8(ascii: "\\") { return try escapedString(from: start) }
            guard b >= 0x20 else { throw failure("a control character in a string") }
            ascii = ascii && b < 0x80
            offset += 1
        }
        throw failure("a string without its closing quote")
    }

    /// A string with escapes, from its first byte (the slow path: drivers' messages have none).
    private mutating func escapedString(from start: Int) throws(Failure) -> String {
        var out: [UInt8] = Array(bytes[start..<offset])
        while offset < bytes.count {
            let b = bytes[offset]
            offset += 1
            switch b {
            case UInt8(ascii: "\""):
                guard let text = String(validating: out, as: UTF8.self) else { throw failure("a string that is not UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                guard offset < bytes.count else { break }
                let e = bytes[offset]
                offset += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out.append(contentsOf: try unicodeEscape())
                default: throw failure("an unknown escape in a string")
                }
            default:
                guard b >= 0x20 else { throw failure("a control character in a string") }
                out.append(b)
            }
        }
        throw failure("a string without its closing quote")
    }

    /// `\uXXXX` after its `u`, a surrogate pair's second half included, as UTF-8.
    private mutating func unicodeEscape() throws(Failure) -> [UInt8] {
        var scalar = try hex4()
        if (0xD800..<0xDC00).contains(scalar) {
            guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                throw failure("a lone surrogate in a string")
            }
            offset += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw failure("a lone surrogate in a string") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let s = Unicode.Scalar(scalar) else { throw failure("a lone surrogate in a string") }
        return Array(String(Character(s)).utf8)
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw failure("a short \\u escape") }
        var v: UInt32 = 0
        for b in bytes[offset..<offset + 4] {
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw failure("a \\u escape that is not hexadecimal")
            }
            v = v << 4 | UInt32(digit)
        }
        offset += 4
        return v
    }

    /// An integer: no fraction, no exponent, within Int.
    mutating func int() throws(Failure) -> Int {
        guard let first = peek() else { throw failure("expected an integer") }
        let negative = first == UInt8(ascii: "-")
        if negative { offset += 1 }
        let start = offset
        var value = 0
        while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) {
            let digit = Int(bytes[offset] - UInt8(ascii: "0"))
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = negative ? times10.subtractingReportingOverflow(digit) : times10.addingReportingOverflow(digit)
            guard !o1, !o2 else { throw failure("an integer beyond \(negative ? Int.min : Int.max)") }
            value = next
            offset += 1
        }
        guard offset > start, bytes[start] != UInt8(ascii: "0") || offset == start + 1 else { throw failure("expected an integer") }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") || bytes[offset] | 0x20 == UInt8(ascii: "e") {
            throw failure("expected an integer, not a fraction")
        }
        return value
    }

    /// A number, as RFC 8259 writes one; finite.
    mutating func double() throws(Failure) -> Double {
        _ = peek()
        let start = offset
        func digits() -> Int {
            let from = offset
            while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
            return offset - from
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        let integerStart = offset
        let integerDigits = digits()
        guard integerDigits > 0, bytes[integerStart] != UInt8(ascii: "0") || integerDigits == 1 else { throw failure("expected a number") }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard digits() > 0 else { throw failure("expected a number") }
        }
        if offset < bytes.count, bytes[offset] | 0x20 == UInt8(ascii: "e") {
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
            guard digits() > 0 else { throw failure("expected a number") }
        }
        guard let value = Double(String(decoding: bytes[start..<offset], as: UTF8.self)), value.isFinite else {
            throw failure("a number beyond a Double")
        }
        return value
    }
}

/// The names of one object so far: a short list (most objects have a few), a set past 16.
private struct NamesSeen {
    private var few: [String] = []
    private var many: Set<String> = []

    /// False when `name` was seen already.
    mutating func insert(_ name: String) -> Bool {
        if many.isEmpty {
            if few.contains(name) { return false }
            few.append(name)
            if few.count > 16 { many = Set(few); few = [] }
            return true
        }
        return many.insert(name).inserted
    }
}
