extension HTTPResponseParser {
    /// How many bytes from `start` are >= 0x20 (no control characters). Eight bytes at a time:
    /// `(x - 0x20…) & ~x & 0x80…` flags bytes below 0x20 (a borrow can flag a byte after the
    /// first one, never one before it, and bytes >= 0x80 are never flagged), so the lowest flag
    /// is the first control byte.
    @inline(__always)
    static func ordinaryBytes(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        let n = bytes.count
        var j = start
        if let base = bytes.baseAddress {
            while j + 8 <= n {
                let x = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: j, as: UInt64.self))
                let flags = (x &- 0x2020_2020_2020_2020) & ~x & 0x8080_8080_8080_8080
                if flags != 0 { return j + flags.trailingZeroBitCount / 8 - start }
                j += 8
            }
        }
        while j < n && bytes[j] >= 32 { j += 1 }
        return j - start
    }

    /// Whether the 8 bytes at `i` equal `lowercase` ignoring case. OR-ing 0x20 lowers letters and
    /// keeps `-`; the only other byte it maps onto a letter or `-` is a control byte, which a
    /// header name (token characters only) never holds.
    @inline(__always)
    static func word(_ base: UnsafeRawPointer, _ i: Int, is lowercase: UInt64) -> Bool {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) | 0x2020_2020_2020_2020 == lowercase
    }

    /// "content-", "t-length", "connecti", "nnection", "transfer", "-encodin", "encoding" as
    /// little-endian words.
    static let words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = {
        func w(_ text: StaticString) -> UInt64 {
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(text.utf8Start[$1]) << (8 * UInt64($1)) }
        }
        return (w("content-"), w("t-length"), w("connecti"), w("nnection"), w("transfer"), w("-encodin"), w("encoding"))
    }()

    /// Checks "HTTP/1.x DDD" plus the following space or line end at `i` (13 bytes are there) and
    /// returns the index after the status code, with the state set to read the reason phrase; nil
    /// sends the byte-wise path to report the exact error.
    mutating func fastStatusPrefix(_ bytes: UnsafeRawBufferPointer, at i: Int) -> Int? {
        guard bytes[i] == UInt8(ascii: "H"), bytes[i + 1] == UInt8(ascii: "T"), bytes[i + 2] == UInt8(ascii: "T"),
              bytes[i + 3] == UInt8(ascii: "P"), bytes[i + 4] == UInt8(ascii: "/"), bytes[i + 5] == UInt8(ascii: "1"),
              bytes[i + 6] == UInt8(ascii: "."), HTTPBytes.isDigit(bytes[i + 7]), bytes[i + 8] == UInt8(ascii: " "),
              HTTPBytes.isDigit(bytes[i + 9]), HTTPBytes.isDigit(bytes[i + 10]), HTTPBytes.isDigit(bytes[i + 11]) else { return nil }
        let code = Int(bytes[i + 9] - 48) * 100 + Int(bytes[i + 10] - 48) * 10 + Int(bytes[i + 11] - 48)
        guard code >= 100 else { return nil }
        minorVersion = Int(bytes[i + 7] - 48)
        status = code
        state = .statusReason
        return i + 12
    }

    /// The index after a CR LF at `i`, if both bytes are at hand.
    @inline(__always)
    static func lineEnd(_ bytes: UnsafeRawBufferPointer, at i: Int) -> Int? {
        i + 1 < bytes.count && bytes[i] == 13 && bytes[i + 1] == 10 ? i + 2 : nil
    }

    /// A header value whose whole line (to its CR LF) is at hand, in a form the byte-wise path
    /// reads the same way: any value of a header we ignore, Content-Length's digits, Connection's
    /// lone `keep-alive` or `close`. Applies it, and returns the index of the next line; nil leaves
    /// it to the byte-wise path (which also names what is wrong).
    mutating func valueAtHand(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        // A value the byte-wise path began (split across reads) is finished there.
        guard header == .other || state == .headerValueStart else { return nil }
        var i = start
        if state == .headerValueStart { while i < bytes.count && (bytes[i] == 32 || bytes[i] == 9) { i += 1 } }
        let count = Self.ordinaryBytes(bytes, from: i)
        guard let next = Self.lineEnd(bytes, at: i + count) else { return nil }
        switch header {
        case .other: break
        case .contentLength:
            // 18 digits cannot overflow; longer goes byte by byte, which checks.
            guard count > 0, count <= 18 else { return nil }
            var value: Int64 = 0
            for j in i..<(i + count) {
                let digit = bytes[j] &- 48
                guard digit < 10 else { return nil }
                value = value * 10 + Int64(digit)
            }
            contentLength = value
        case .connection:
            if Self.equalsLowercase(bytes, from: i, count: count, "keep-alive") { keepAliveToken = true }
            else if Self.equalsLowercase(bytes, from: i, count: count, "close") { closeToken = true }
            else { return nil }
        case .transferEncoding, .recorded: return nil
        }
        header = .other
        state = .headerLineStart
        return next
    }

    static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, from: Int, count: Int, _ name: StaticString) -> Bool {
        guard count == name.utf8CodeUnitCount else { return false }
        for k in 0..<count where HTTPBytes.lower(bytes[from + k]) != name.utf8Start[k] { return false }
        return true
    }

    /// Which header the name in `bytes[from..<to]` is (case-insensitive): two overlapping 8-byte
    /// words cover each name we act on.
    static func classify(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Header {
        guard let base = bytes.baseAddress else { return .other }
        switch to - from {
        case lengths.0: return word(base, from, is: words.0) && word(base, from + 6, is: words.1) ? .contentLength : .other
        case lengths.1:
            return word(base, from, is: words.4) && word(base, from + 8, is: words.5) && word(base, from + 9, is: words.6)
                ? .transferEncoding : .other
        case lengths.2: return word(base, from, is: words.2) && word(base, from + 2, is: words.3) ? .connection : .other
        default: return .other
        }
    }

    /// Matches `b` against a comma-separated token list, one target token at a time.
    @inline(__always)
    static func token(_ match: inout Int8, _ b: UInt8, _ target: StaticString, _ length: Int8) {
        if b == UInt8(ascii: ",") { match = 0; return }
        if b == 32 || b == 9 { return }
        if match >= 0 && match < length && target.utf8Start[Int(match)] == b { match += 1 } else { match = -1 }
    }

    /// Chunked framing: a chunk's size line begins, and ends.
    mutating func startChunk() {
        remaining = 0
        chunkLineBytes = 0
        state = .chunkSize
    }

    mutating func chunkSizeEnded() -> Outcome? {
        if remaining == 0 { state = .trailerLineStart; return nil }
        state = .chunkData
        return nil
    }
}
