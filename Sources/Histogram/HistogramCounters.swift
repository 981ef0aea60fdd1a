import Glibc

/// The counters of one `HDRHistogram`, in memory that reads as zero until it is written: fresh
/// anonymous pages (mmap) for a layout of 64 KiB or more, calloc below. A latency histogram has
/// 23,552 counters (184 KiB) of which a run writes a few hundred, so pages no value falls in
/// never become resident: nothing here writes a zero over a zero (no memset at creation;
/// copies, merges and resets write only lines of 8 counters that hold values).
///
/// Shared between copies of a histogram and copied before a write (copy-on-write, by
/// `HDRHistogram`); not thread-safe by itself.
@usableFromInline
final class HistogramCounters: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Int64>
    @usableFromInline let count: Int
    private let mapped: Bool

    /// The empty counters every new latency histogram shares until its first write (never
    /// written itself: it is always referenced here too, so never uniquely referenced).
    static let emptyLatency = HistogramCounters(count: HistogramLayout.latency.countsLength)

    /// Below this many bytes calloc (whose small blocks may reuse pages already written).
    static let mapThreshold = 64 * 1024

    init(count: Int) {
        self.count = count
        let bytes = Swift.max(count, 1) * MemoryLayout<Int64>.stride
        if bytes >= Self.mapThreshold {
            let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let raw, raw != MAP_FAILED else { fatalError("histogram counters: mmap of \(bytes) bytes failed (errno \(errno))") }
            base = raw.bindMemory(to: Int64.self, capacity: Swift.max(count, 1))
            mapped = true
        } else {
            guard let raw = calloc(Swift.max(count, 1), MemoryLayout<Int64>.stride) else {
                fatalError("histogram counters: calloc of \(bytes) bytes failed")
            }
            base = raw.bindMemory(to: Int64.self, capacity: Swift.max(count, 1))
            mapped = false
        }
    }

    /// A copy of `other`, writing only its non-zero lines of counters.
    convenience init(copying other: HistogramCounters) {
        self.init(count: other.count)
        add(other)
    }

    deinit {
        if mapped { munmap(base, Swift.max(count, 1) * MemoryLayout<Int64>.stride) } else { free(base) }
    }

    @usableFromInline var buffer: UnsafeMutableBufferPointer<Int64> { UnsafeMutableBufferPointer(start: base, count: count) }

    /// Adds `other`'s counters (the same count) below index `limit` (`other` holds none above).
    /// A block of 32 counters (four lines) that is all zero in `other` is passed over with one
    /// test, a line of 8 likewise, so this one's pages are written only where `other` has
    /// values; within a line the adds run straight (vectorized).
    func add(_ other: HistogramCounters, below limit: Int? = nil) {
        let mine = base, theirs = UnsafePointer(other.base)
        let end = Swift.min(limit ?? count, count)
        var i = 0
        while i + Self.block <= end {
            if Self.blockHoldsValues(theirs + i) {
                for j in stride(from: i, to: i + Self.block, by: Self.line) where Self.lineHoldsValues(theirs + j) {
                    for k in j..<(j + Self.line) { mine[k] &+= theirs[k] }
                }
            }
            i += Self.block
        }
        while i + Self.line <= end {
            if Self.lineHoldsValues(theirs + i) { for k in i..<(i + Self.line) { mine[k] &+= theirs[k] } }
            i += Self.line
        }
        while i < end {
            if theirs[i] != 0 { mine[i] &+= theirs[i] }
            i += 1
        }
    }

    /// Whether each of `other`'s counters (the same count) is at most this one's.
    func contains(_ other: HistogramCounters) -> Bool {
        let mine = UnsafePointer(base), theirs = UnsafePointer(other.base)
        var i = 0
        while i + Self.line <= count {
            if Self.lineHoldsValues(theirs + i) { for k in i..<(i + Self.line) where theirs[k] > mine[k] { return false } }
            i += Self.line
        }
        while i < count {
            if theirs[i] > mine[i] { return false }
            i += 1
        }
        return true
    }

    /// Takes away `other`'s counters (each at most this one's: `contains`), line by line where
    /// `other` holds values.
    func subtract(_ other: HistogramCounters) {
        let mine = base, theirs = UnsafePointer(other.base)
        var i = 0
        while i + Self.line <= count {
            if Self.lineHoldsValues(theirs + i) { for k in i..<(i + Self.line) { mine[k] &-= theirs[k] } }
            i += Self.line
        }
        while i < count {
            if theirs[i] != 0 { mine[i] &-= theirs[i] }
            i += 1
        }
    }

    /// Zeroes the lines of counters that hold values (the others' pages stay untouched).
    func clear() {
        var i = 0
        while i + Self.line <= count {
            if Self.lineHoldsValues(UnsafePointer(base + i)) { (base + i).update(repeating: 0, count: Self.line) }
            i += Self.line
        }
        while i < count {
            if base[i] != 0 { base[i] = 0 }
            i += 1
        }
    }

    static let line = 8
    static let block = 32

    /// Whether any of the `block` counters from `p` is non-zero.
    @inline(__always)
    static func blockHoldsValues(_ p: UnsafePointer<Int64>) -> Bool {
        var any: Int64 = 0
        for k in 0..<block { any |= p[k] }
        return any != 0
    }

    /// Whether any of the `line` counters from `p` is non-zero (copies, merges, resets, queries and
    /// encoding skip the lines that are not).
    @inline(__always)
    static func lineHoldsValues(_ p: UnsafePointer<Int64>) -> Bool {
        (p[0] | p[1] | p[2] | p[3] | p[4] | p[5] | p[6] | p[7]) != 0
    }
}
