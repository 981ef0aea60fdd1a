extension HTTPResponseParser {
    /// How many bytes from `start` are >= 0x20 (no control characters).
    @inline(__always)
    static func ordinaryBytes(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        let n = bytes.count
        var j = start
        if let base = bytes.baseAddress {
            let space = SIMD16<UInt8>(repeating: 32)
            while j + 16 <= n {
                let block = base.loadUnaligned(fromByteOffset: j, as: SIMD16<UInt8>.self)
                if any(block .< space) { break }
                j += 16
            }
        }
        while j < n && bytes[j] >= 32 { j += 1 }
        return j - start
    }

    /// Which header the name in `bytes[from..<to]` is (case-insensitive).
    static func classify(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Header {
        func equals(_ name: StaticString) -> Bool {
            guard to - from == name.utf8CodeUnitCount else { return false }
            for k in 0..<(to - from) where HTTPBytes.lower(bytes[from + k]) != name.utf8Start[k] { return false }
            return true
        }
        switch to - from {
        case lengths.0: return equals(names.0) ? .contentLength : .other
        case lengths.1: return equals(names.1) ? .transferEncoding : .other
        case lengths.2: return equals(names.2) ? .connection : .other
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
