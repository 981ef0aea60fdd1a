import Foundation

/// The non-zero counters of an encoded histogram, as the V2 encoding lists them: what a merge
/// needs. An interval histogram has a few hundred non-zero counters out of 23,552, so decoding to
/// this and adding it costs a fraction of building a full 184 KiB histogram per message.
public struct SparseCounts: Sendable, Equatable {
    public let layout: HistogramLayout
    /// Counts indexes of the non-zero counters, ascending, and those counters.
    public internal(set) var indexes: [Int32] = []
    public internal(set) var counts: [Int64] = []
    public internal(set) var totalCount: Int64 = 0

    /// Decodes the base64 text form.
    /// - Throws: `HistogramError.malformedEncoding` for invalid base64 or any decoding error below.
    public init(base64: String) throws(HistogramError) {
        // Trimming copies the string: only when there is something to trim (looked for in the
        // UTF-8: reading the ends as Characters was a fifth of decoding a small histogram).
        func mayTrim(_ byte: UInt8?) -> Bool {
            guard let byte else { return false }
            return byte == 0x20 || (0x09...0x0D).contains(byte) || byte >= 0x80
        }
        let trimmed = mayTrim(base64.utf8.first) || mayTrim(base64.utf8.last)
            ? base64.trimmingCharacters(in: .whitespacesAndNewlines) : base64
        guard let bytes = Base64.decode(trimmed) else { throw .malformedEncoding("not valid base64") }
        try self.init(encoded: bytes)
    }

    /// Decodes either the compressed or the uncompressed V2 encoding (told apart by the cookie).
    /// - Throws: `HistogramError.malformedEncoding` for an unknown cookie, a truncated buffer, a header
    ///   with an invalid layout, or counters that overrun it; `.compression` for a corrupt zlib stream.
    public init(encoded bytes: [UInt8]) throws(HistogramError) {
        var reader = ByteReader(bytes[...])
        let cookie = try reader.uint32()
        switch cookie {
        case HDRHistogram.compressedEncodingCookie:
            let length = Int(try reader.uint32())
            guard length <= reader.remaining else {
                throw .malformedEncoding("compressed length \(length) exceeds the \(reader.remaining) bytes present")
            }
            // Largest possible inner form: header + 9 bytes per counter.
            let limit = HDRHistogram.headerSize + 9 * HistogramLayout.maximumCountsLength
            let inner = try Zlib.decompress(reader.take(length), limit: limit)
            try self.init(uncompressed: inner)
        case HDRHistogram.encodingCookie:
            try self.init(uncompressed: bytes)
        default:
            throw .malformedEncoding(String(format: "unknown cookie 0x%08x (expected V2: 0x1c849313 or 0x1c849314)", cookie))
        }
    }

    private init(uncompressed bytes: [UInt8]) throws(HistogramError) {
        var reader = ByteReader(bytes[...])
        let cookie = try reader.uint32()
        guard cookie == HDRHistogram.encodingCookie else {
            throw .malformedEncoding(String(format: "inner cookie 0x%08x, expected 0x1c849313", cookie))
        }
        let payloadLength = Int(try reader.uint32())
        let normalizingOffset = try reader.uint32()
        let digits = Int(try reader.uint32())
        let lowest = try reader.uint64()
        let highest = try reader.uint64()
        _ = try reader.uint64()  // integer-to-double ratio: unused for integer histograms
        guard normalizingOffset == 0 else {
            throw .malformedEncoding("normalizing index offset \(normalizingOffset) is not supported")
        }
        guard lowest <= UInt64(Int64.max), highest <= UInt64(Int64.max) else {
            throw .malformedEncoding("header range \(lowest)...\(highest) overflows Int64")
        }
        do {
            layout = try HistogramLayout(lowestDiscernibleValue: Int64(lowest),
                                         highestTrackableValue: Int64(highest), significantDigits: digits)
        } catch {
            throw .malformedEncoding("header: \(error)")
        }
        guard payloadLength <= reader.remaining else {
            throw .malformedEncoding("payload length \(payloadLength) exceeds the \(reader.remaining) bytes present")
        }
        let start = HDRHistogram.headerSize
        try bytes.withUnsafeBufferPointer { all throws(HistogramError) in
            try readCounters(UnsafeBufferPointer(rebasing: all[start..<(start + payloadLength)]))
        }
    }

    /// Walks the ZigZag varints: a value ≥ 0 is the next counter, -k skips k empty ones.
    private mutating func readCounters(_ payload: UnsafeBufferPointer<UInt8>) throws(HistogramError) {
        let length = layout.countsLength
        var index = 0
        var position = 0
        // Each non-zero counter takes at least one byte.
        indexes.reserveCapacity(Swift.min(payload.count, length))
        counts.reserveCapacity(Swift.min(payload.count, length))
        while position < payload.count {
            let value = try ZigZag.read(payload, at: &position)
            if value < 0 {
                let zeros = value == Int64.min ? Int64.max : -value
                guard zeros <= Int64(length - index) else {
                    throw .malformedEncoding("zero run of \(zeros) overruns \(length) counters")
                }
                index += Int(zeros)
                continue
            }
            guard index < length else { throw .malformedEncoding("more counters than the layout's \(length)") }
            if value > 0 {
                let (sum, overflow) = totalCount.addingReportingOverflow(value)
                guard !overflow else { throw .malformedEncoding("total count overflows Int64") }
                totalCount = sum
                indexes.append(Int32(index))
                counts.append(value)
            }
            index += 1
        }
    }
}

extension HDRHistogram {
    /// Decodes the base64 text form.
    /// - Throws: `HistogramError.malformedEncoding` for invalid base64 or any decoding error of
    ///   `SparseCounts`.
    public init(base64: String) throws(HistogramError) {
        self.init(try SparseCounts(base64: base64))
    }

    /// Decodes either the compressed or the uncompressed V2 encoding (told apart by the cookie).
    public init(encoded bytes: [UInt8]) throws(HistogramError) {
        self.init(try SparseCounts(encoded: bytes))
    }

    /// The full histogram of decoded counters.
    public init(_ sparse: SparseCounts) {
        self.init(layout: sparse.layout, clampedCount: 0) { base in
            for k in sparse.indexes.indices { base[Int(sparse.indexes[k])] = sparse.counts[k] }
            // Summed from the counters as written (an index given twice keeps its last count).
            var total: Int64 = 0
            for k in sparse.indexes.indices { total &+= base[Int(sparse.indexes[k])] }
            return total
        }
    }

    /// Adds decoded counters: the same result as adding `HDRHistogram(sparse)`, touching only
    /// the non-zero counters.
    /// - Throws: `HistogramError.layoutMismatch` when the layouts differ.
    public mutating func add(_ sparse: SparseCounts) throws(HistogramError) {
        guard sparse.layout == layout else { throw .layoutMismatch(layout, sparse.layout) }
        if !isKnownUniquelyReferenced(&_storage) { makeCountersUnique() }
        let mine = _storage.base
        sparse.indexes.withUnsafeBufferPointer { indexes in
            sparse.counts.withUnsafeBufferPointer { counts in
                for k in 0..<indexes.count { mine[Int(indexes[k])] &+= counts[k] }
            }
        }
        _totalCount &+= sparse.totalCount
        _highWater = layout.countsLength
    }
}
