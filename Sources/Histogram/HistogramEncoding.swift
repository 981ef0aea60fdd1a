import Foundation

/// HdrHistogram's V2 encoding, byte for byte as the Java, C and Python implementations write it:
///
/// - inner: big-endian header of 40 bytes (cookie 0x1c849313, payload length, normalizing index
///   offset, significant digits, lowest discernible value, highest trackable value, integer-to-double
///   ratio) then the counters as ZigZag LEB128-64b9B varints, a run of k > 1 empty counters written
///   as the single value -k;
/// - compressed: cookie 0x1c849314, length of the zlib stream, then the zlib-compressed inner form;
/// - text: base64 of the compressed form (it starts "HISTF").
extension HDRHistogram {
    static let encodingCookie: UInt32 = 0x1c84_9313
    static let compressedEncodingCookie: UInt32 = 0x1c84_9314
    static let headerSize = 40

    /// The uncompressed V2 encoding.
    public func encode() -> [UInt8] {
        // Only counters up to the highest non-empty one are written, as the reference does.
        var payload: [UInt8] = []
        withCounts { counts in
            // Runs of zeros are skipped eight counters at a time: a report encodes one histogram
            // per name each second, and most of their 23,552 counters are empty.
            let line = HistogramCounters.line
            guard let base = counts.baseAddress else { return }
            var relevant = counts.count
            while relevant >= line && !HistogramCounters.lineHoldsValues(base + relevant - line) { relevant -= line }
            while relevant > 0 && counts[relevant - 1] == 0 { relevant -= 1 }
            payload.reserveCapacity(Swift.min(relevant, 4096) + 16)
            var i = 0
            while i < relevant {
                let count = counts[i]
                i += 1
                if count == 0 {
                    var zeros: Int64 = 1
                    while i + line <= relevant && !HistogramCounters.lineHoldsValues(base + i) { zeros += Int64(line); i += line }
                    while i < relevant && counts[i] == 0 { zeros += 1; i += 1 }
                    ZigZag.append(zeros > 1 ? -zeros : 0, to: &payload)
                } else {
                    ZigZag.append(count, to: &payload)
                }
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(Self.headerSize + payload.count)
        BigEndian.append(Self.encodingCookie, to: &out)
        BigEndian.append(UInt32(payload.count), to: &out)
        BigEndian.append(UInt32(0), to: &out)  // normalizing index offset
        BigEndian.append(UInt32(layout.significantDigits), to: &out)
        BigEndian.append(UInt64(layout.lowestDiscernibleValue), to: &out)
        BigEndian.append(UInt64(layout.highestTrackableValue), to: &out)
        BigEndian.append((1.0 as Double).bitPattern, to: &out)  // integer-to-double conversion ratio
        out.append(contentsOf: payload)
        return out
    }

    /// The compressed V2 encoding (what .hlog files and Stampede's messages carry, before base64).
    public func encodeCompressed() -> [UInt8] {
        // compress2 only fails on allocation failure or bad arguments, neither possible here.
        let deflated = try! Zlib.compress(encode())
        var out: [UInt8] = []
        out.reserveCapacity(8 + deflated.count)
        BigEndian.append(Self.compressedEncodingCookie, to: &out)
        BigEndian.append(UInt32(deflated.count), to: &out)
        out.append(contentsOf: deflated)
        return out
    }

    /// Base64 of the compressed encoding ("HISTF...").
    public func encodeBase64() -> String {
        Data(encodeCompressed()).base64EncodedString()
    }
}

/// ZigZag LEB128-64b9B: 7 bits per byte with a continuation bit for up to 8 bytes, and a 9th byte
/// carrying the last 8 bits, so any Int64 fits in 9 bytes.
enum ZigZag {
    static func append(_ value: Int64, to out: inout [UInt8]) {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        for _ in 0..<8 {
            if v < 0x80 { out.append(UInt8(v)); return }
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(truncatingIfNeeded: v))
    }

    /// Reads one value at `position` and moves past it.
    @inline(__always)
    static func read(_ bytes: UnsafeBufferPointer<UInt8>, at position: inout Int) throws(HistogramError) -> Int64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        for _ in 0..<8 {
            guard position < bytes.count else { throw .malformedEncoding("truncated") }
            let b = bytes[position]
            position += 1
            v |= UInt64(b & 0x7f) << shift
            shift += 7
            if b & 0x80 == 0 { return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1))) }
        }
        guard position < bytes.count else { throw .malformedEncoding("truncated") }
        v |= UInt64(bytes[position]) << 56
        position += 1
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }
}

enum BigEndian {
    static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
    }
}

/// Bounds-checked reads from a byte slice; running past the end is a typed error, never a trap.
struct ByteReader {
    private var bytes: ArraySlice<UInt8>
    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }
    var remaining: Int { bytes.count }

    mutating func byte() throws(HistogramError) -> UInt8 {
        guard let b = bytes.popFirst() else { throw .malformedEncoding("truncated") }
        return b
    }
    mutating func take(_ n: Int) -> ArraySlice<UInt8> {
        let slice = bytes.prefix(n)
        bytes = bytes.dropFirst(n)
        return slice
    }
    mutating func uint32() throws(HistogramError) -> UInt32 {
        guard bytes.count >= 4 else { throw .malformedEncoding("truncated header") }
        return take(4).reduce(0) { $0 << 8 | UInt32($1) }
    }
    mutating func uint64() throws(HistogramError) -> UInt64 {
        guard bytes.count >= 8 else { throw .malformedEncoding("truncated header") }
        return take(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
