import Glibc

/// The counters of one `HDRHistogram`, in memory that reads as zero until it is written: fresh
/// anonymous pages (mmap) for a layout of 64 KiB or more, calloc below. A latency histogram has
/// 23,552 counters (184 KiB) of which a run writes a few hundred, so pages no value falls in
/// never become resident: nothing here writes a zero over a zero (no memset at creation,
/// copies and merges write only the non-zero counters, a reset clears only those).
///
/// Shared between copies of a histogram and copied before a write (copy-on-write, by
/// `HDRHistogram`); not thread-safe by itself.
@usableFromInline
final class HistogramCounters: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Int64>
    @usableFromInline let count: Int
    private let mapped: Bool

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

    /// A copy of `other`, writing only its non-zero counters.
    convenience init(copying other: HistogramCounters) {
        self.init(count: other.count)
        other.forEachNonZero { base[$0] = $1 }
    }

    deinit {
        if mapped { munmap(base, Swift.max(count, 1) * MemoryLayout<Int64>.stride) } else { free(base) }
    }

    @usableFromInline var buffer: UnsafeMutableBufferPointer<Int64> { UnsafeMutableBufferPointer(start: base, count: count) }

    /// Calls `body` with the index and value of every non-zero counter, in index order.
    @inline(__always)
    func forEachNonZero(_ body: (Int, Int64) -> Void) {
        for i in 0..<count where base[i] != 0 { body(i, base[i]) }
    }

    /// Zeroes the non-zero counters (the others' pages stay untouched).
    func clear() {
        for i in 0..<count where base[i] != 0 { base[i] = 0 }
    }
}
