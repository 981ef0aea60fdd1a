import StampedeModel

/// Finding a path's value in a body.
extension JSONPath {
    /// The value at the path: a string's text (unescaped), a number's, `true`/`false`, or an
    /// object's or array's JSON text. nil when the path is not there (or `null`).
    public func find(in bytes: UnsafeRawBufferPointer) -> String? {
        switch ByteJSONPath(self).find(in: bytes) {
        case .raw(let range): String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        case .unescaped(let text): text
        case nil: nil
        }
    }
}

/// A value found in a body: where its bytes are (a string without escapes, between its quotes; a
/// number, literal, object or array as written), or a string's unescaped text.
public enum FoundJSONValue: Equatable {
    case raw(Range<Int>)
    case unescaped(String)
}

/// A JSON path ready for walking bodies: its keys as bytes in one array, so a step compares
/// bytes in place (a `String` key cost a copy and a retain per step).
public struct ByteJSONPath: Sendable {
    /// Per step: a key's range in `keys`, or an array index (`index` >= 0).
    private let steps: [(key: Range<Int>, index: Int)]
    private let keys: [UInt8]

    public init(_ path: JSONPath) {
        var keys: [UInt8] = []
        steps = path.steps.map { step in
            switch step {
            case .key(let key):
                let start = keys.count
                keys.append(contentsOf: key.utf8)
                return (start..<keys.count, -1)
            case .index(let index): return (0..<0, index)
            }
        }
        self.keys = keys
    }

    /// The value at the path, nil when it is not there (or `null`).
    public func find(in bytes: UnsafeRawBufferPointer) -> FoundJSONValue? {
        var reader = JSONReader(bytes: bytes)
        let walked = keys.withUnsafeBytes { keys in
            for k in steps.indices {
                reader.skipSpace()
                let step = steps[k]
                if step.index >= 0 {
                    guard reader.enterArray(findingIndex: step.index) else { return false }
                } else {
                    guard reader.enterObject(findingKey: UnsafeRawBufferPointer(rebasing: keys[step.key])) else { return false }
                }
            }
            return true
        }
        guard walked else { return nil }
        reader.skipSpace()
        return reader.value()
    }
}

/// A forward-only walk over JSON bytes (no tree): enough to find one value by its path.
struct JSONReader {
    let bytes: UnsafeRawBufferPointer
    /// `bytes` as a pointer that is never nil, so the hot loops test an index, not an optional,
    /// per byte (an empty body's placeholder is never read: `count` is 0).
    private let base: UnsafeRawPointer
    private let count: Int
    var at = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        count = bytes.count
        base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
    }

    @inline(__always)
    private func byte(_ k: Int) -> UInt8 { base.load(fromByteOffset: k, as: UInt8.self) }

    var current: UInt8? { at < count ? byte(at) : nil }

    mutating func skipSpace() {
        while at < count {
            let c = byte(at)
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            at += 1
        }
    }

    /// At an object: moves to the value of `key` (true), or fails. The position is kept in a
    /// local while walking (a stored one was written back to memory on every byte).
    mutating func enterObject(findingKey key: UnsafeRawBufferPointer) -> Bool {
        var k = at
        guard k < count, byte(k) == UInt8(ascii: "{") else { return false }
        k += 1
        while true {
            k = skipSpace(from: k)
            guard k < count, byte(k) == UInt8(ascii: "\"") else { return false }
            // The key's bytes: compared in place when it has no escape (the usual key).
            let matches: Bool
            if let raw = rawString(at: k) {
                matches = bytesEqual(bytes, raw, key, 0..<key.count)
                k = raw.upperBound + 1
            } else {
                at = k
                guard let name = readString() else { return false }
                matches = name.utf8.elementsEqual(key)
                k = at
            }
            k = skipSpace(from: k)
            guard k < count, byte(k) == UInt8(ascii: ":") else { return false }
            k = skipSpace(from: k + 1)
            at = k
            if matches { return true }
            guard skipValue() else { return false }
            k = skipSpace(from: at)
            guard k < count, byte(k) == UInt8(ascii: ",") else { return false }
            k += 1
        }
    }

    /// The first index from `k` on that is not JSON white space.
    @inline(__always)
    private func skipSpace(from k: Int) -> Int {
        var k = k
        while k < count {
            let c = byte(k)
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { break }
            k += 1
        }
        return k
    }

    /// At an array: moves to element `index` (true), or fails.
    mutating func enterArray(findingIndex index: Int) -> Bool {
        guard current == UInt8(ascii: "[") else { return false }
        at += 1
        var k = 0
        while true {
            skipSpace()
            if current == UInt8(ascii: "]") { return false }
            if k == index { return true }
            guard skipValue() else { return false }
            skipSpace()
            guard current == UInt8(ascii: ",") else { return false }
            at += 1
            k += 1
        }
    }

    /// The value here (see `ByteJSONPath.find`).
    mutating func value() -> FoundJSONValue? {
        guard let c = current else { return nil }
        if c == UInt8(ascii: "\"") {
            if let raw = rawString(at: at) { return .raw(raw) }
            return readString().map { .unescaped($0) }
        }
        let start = at
        guard skipValue() else { return nil }
        let isNull = at - start == 4 && bytes[start] == UInt8(ascii: "n") && bytes[start + 1] == UInt8(ascii: "u")
            && bytes[start + 2] == UInt8(ascii: "l") && bytes[start + 3] == UInt8(ascii: "l")
        return isNull ? nil : .raw(start..<at)
    }

    /// Skips one value; false when the bytes end or are not JSON.
    mutating func skipValue() -> Bool {
        guard let c = current else { return false }
        switch c {
        case UInt8(ascii: "\""): return skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            // Nesting by counting brackets outside strings.
            var depth = 0
            while let b = current {
                if b == UInt8(ascii: "\"") { guard skipString() else { return false }; continue }
                if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") { depth += 1 }
                if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { at += 1; return true }
                }
                at += 1
            }
            return false
        default:
            let start = at
            while let b = current, b != UInt8(ascii: ","), b != UInt8(ascii: "}"), b != UInt8(ascii: "]"),
                  b != 0x20, b != 0x0A, b != 0x0D, b != 0x09 { at += 1 }
            // A literal cut off by the end of the bytes may be incomplete: not a value.
            return at > start && at < bytes.count
        }
    }

    private mutating func skipString() -> Bool {
        at += 1
        while at < count {
            let b = byte(at)
            at += 1
            if b == UInt8(ascii: "\\") { at += 1; continue }
            if b == UInt8(ascii: "\"") { return true }
        }
        return false
    }

    /// Where the bytes of the string whose `"` is at `start` are when it has no escape (nil
    /// otherwise, or unterminated); its closing quote is at the range's end.
    @inline(__always)
    func rawString(at start: Int) -> Range<Int>? {
        var k = start + 1
        while k < count {
            let b = byte(k)
            if b == UInt8(ascii: "\"") { return (start + 1)..<k }
            if b == UInt8(ascii: "\\") { return nil }
            k += 1
        }
        return nil
    }

    /// Reads a string at `"`, unescaping it.
    mutating func readString() -> String? {
        if let raw = rawString(at: at) {
            at = raw.upperBound + 1
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[raw]), as: UTF8.self)
        }
        at += 1
        var out: [UInt8] = []
        while let b = current {
            at += 1
            if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            guard b == UInt8(ascii: "\\") else { out.append(b); continue }
            guard let e = current else { return nil }
            at += 1
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard let unit = hex4() else { return nil }
                var scalar = UInt32(unit)
                if (0xD800..<0xDC00).contains(unit), current == UInt8(ascii: "\\"), at + 1 < bytes.count, bytes[at + 1] == UInt8(ascii: "u") {
                    at += 2
                    guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                    scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8))
            default: out.append(e)  // \" \\ \/
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt16? {
        guard at + 4 <= bytes.count else { return nil }
        var v: UInt16 = 0
        for _ in 0..<4 {
            guard let d = current.flatMap({ Character(Unicode.Scalar($0)).hexDigitValue }) else { return nil }
            v = v << 4 | UInt16(d)
            at += 1
        }
        return v
    }
}

/// Whether `bytes[range]` is `text`'s UTF-8, compared as contiguous bytes (the generic
/// `elementsEqual` over `String.UTF8View` cost about 190 instructions a key): a kept cookie's
/// name or domain against a capture's or a host.
func utf8Equal(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: String) -> Bool {
    var text = text
    return text.withUTF8 { t in
        guard t.count == range.count else { return false }
        var k = 0
        while k < t.count {
            if bytes[range.lowerBound + k] != t[k] { return false }
            k += 1
        }
        return true
    }
}

/// Whether `a[ra]` and `b[rb]` hold the same bytes.
@inline(__always)
func bytesEqual(_ a: UnsafeRawBufferPointer, _ ra: Range<Int>, _ b: UnsafeRawBufferPointer, _ rb: Range<Int>) -> Bool {
    guard ra.count == rb.count else { return false }
    for k in 0..<ra.count where a[ra.lowerBound + k] != b[rb.lowerBound + k] { return false }
    return true
}
