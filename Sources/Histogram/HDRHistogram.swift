/// A plain (single-owner) HDR histogram: a value type with `Int64` counters.
///
/// Use it for everything that is not concurrent recording: per-thread recording on a reactor,
/// snapshots, merging (`add(_:)`), queries and encoding. Not thread-safe by itself; as a value
/// type, copies are independent (they share counters until one is written). For recording from
/// many threads use `AtomicHDRHistogram` or `IntervalRecorder`.
///
/// Memory: the counters (184 KiB for the latency layout) are resident only where values fell
/// (`HistogramCounters`), typically a few KiB.
public struct HDRHistogram: HistogramRecording, Sendable, Equatable {
    public let layout: HistogramLayout
    // Stored as @usableFromInline internals so `record` can be inlined into callers' hot loops.
    @usableFromInline var _storage: HistogramCounters
    @usableFromInline var _totalCount: Int64 = 0
    @usableFromInline var _clampedCount: Int64 = 0
    /// No counter at or above this index holds a value: merges read the counters below it only.
    /// A histogram recorded from empty bounds it by its values (a second's latencies fill a few
    /// thousand of the 23,552 counters from the bottom: merging the worker's seconds read all of
    /// them, about 150 instructions a journey request); one filled another way (decoded, from an
    /// array) says `countsLength`.
    @usableFromInline var _highWater = 0

    /// One counter per counts index (`layout.countsLength` of them), as a new array: for
    /// exporting; queries read the counters in place.
    public var counts: [Int64] { Array(_storage.buffer) }
    /// Sum of all counters.
    public var totalCount: Int64 { _totalCount }
    /// How many recorded values were outside `0...highestTrackableValue` and clamped into it.
    public var clampedCount: Int64 { _clampedCount }

    /// An empty histogram with the given layout (default: Stampede's latency layout). A latency
    /// histogram shares one empty set of counters until its first write (copy-on-write makes its
    /// own then): the many that stay empty (a second's connect times, a name's TLS times) cost no
    /// mapping at all.
    public init(layout: HistogramLayout = .latency) {
        self.layout = layout
        self._storage = layout == .latency ? HistogramCounters.emptyLatency : HistogramCounters(count: layout.countsLength)
    }

    /// A histogram with precomputed counters, e.g. from a decoder or an atomic snapshot.
    /// `counts.count` must equal `layout.countsLength`.
    init(layout: HistogramLayout, counts: [Int64], clampedCount: Int64) {
        precondition(counts.count == layout.countsLength)
        self.init(layout: layout, clampedCount: clampedCount) { base in
            var total: Int64 = 0
            for i in counts.indices where counts[i] != 0 {
                base[i] = counts[i]
                total &+= counts[i]
            }
            return total
        }
    }

    /// A histogram whose counters `fill` writes (all zero before: it writes only the non-zero
    /// ones) and whose total it returns.
    init(layout: HistogramLayout, clampedCount: Int64, fill: (UnsafeMutablePointer<Int64>) -> Int64) {
        self.layout = layout
        self._storage = HistogramCounters(count: layout.countsLength)
        self._totalCount = fill(_storage.base)
        self._clampedCount = clampedCount
        self._highWater = layout.countsLength
    }

    @inlinable @inline(__always)
    public mutating func record(_ value: Int64, count: Int64) {
        let (index, clamped) = layout.clampedIndex(of: value)
        if !isKnownUniquelyReferenced(&_storage) { makeCountersUnique() }
        _storage.base[index] &+= count
        if index >= _highWater { _highWater = index + 1 }
        _totalCount &+= count
        if clamped { _clampedCount &+= count }
    }

    /// Copy-on-write: this value's own counters before one is written.
    @usableFromInline @inline(never)
    mutating func makeCountersUnique() {
        // Nothing recorded yet (the shared empty counters): fresh ones, nothing to copy.
        _storage = _totalCount == 0 && _clampedCount == 0 ? HistogramCounters(count: _storage.count) : HistogramCounters(copying: _storage)
    }

    /// Reads the counters in place (`layout.countsLength` of them) for the duration of `body`.
    func withCounts<R>(_ body: (UnsafeBufferPointer<Int64>) throws -> R) rethrows -> R {
        try withExtendedLifetime(_storage) { try body(UnsafeBufferPointer(_storage.buffer)) }
    }

    /// Adds every count of `other` into this histogram. Exact: merging N histograms gives the same
    /// counters as recording all their values into one.
    /// - Throws: `HistogramError.layoutMismatch` when the layouts differ.
    public mutating func add(_ other: HDRHistogram) throws(HistogramError) {
        guard other.layout == layout else { throw .layoutMismatch(layout, other.layout) }
        guard other._totalCount != 0 || other._clampedCount != 0 else { return }
        if !isKnownUniquelyReferenced(&_storage) { makeCountersUnique() }
        _storage.add(other._storage, below: other._highWater)
        _highWater = Swift.max(_highWater, other._highWater)
        _totalCount &+= other._totalCount
        _clampedCount &+= other._clampedCount
    }

    /// Takes away every count of `other`, which must be part of this histogram (recorded into it
    /// too): the rest is exactly the histogram of the values `other` does not hold. Nothing
    /// changes when a counter of `other` exceeds this one's.
    /// - Throws: `layoutMismatch`, or `notContained`.
    public mutating func subtract(_ other: HDRHistogram) throws(HistogramError) {
        guard other.layout == layout else { throw .layoutMismatch(layout, other.layout) }
        guard other._totalCount != 0 || other._clampedCount != 0 else { return }
        guard other._totalCount <= _totalCount, other._clampedCount <= _clampedCount, _storage.contains(other._storage) else { throw .notContained }
        if !isKnownUniquelyReferenced(&_storage) { makeCountersUnique() }
        _storage.subtract(other._storage)
        _totalCount &-= other._totalCount
        _clampedCount &-= other._clampedCount
    }

    /// Sets every counter to zero.
    public mutating func reset() {
        if isKnownUniquelyReferenced(&_storage) {
            _storage.clear()
        } else {
            _storage = layout == .latency ? HistogramCounters.emptyLatency : HistogramCounters(count: layout.countsLength)
        }
        _totalCount = 0
        _clampedCount = 0
        _highWater = 0
    }

    /// Count recorded at the counts index of `value`.
    public func count(at value: Int64) -> Int64 {
        let (index, _) = layout.clampedIndex(of: value)
        return withCounts { $0[index] }
    }

    /// Equal layouts and counters.
    public static func == (a: HDRHistogram, b: HDRHistogram) -> Bool {
        guard a.layout == b.layout, a._totalCount == b._totalCount, a._clampedCount == b._clampedCount else { return false }
        if a._storage === b._storage { return true }
        return a.withCounts { x in b.withCounts { y in x.elementsEqual(y) } }
    }
}

extension HDRHistogram: CustomStringConvertible {
    /// A one-line summary (never the 23k counters).
    public var description: String {
        let p = values(atPercentiles: [50, 99])
        return "HDRHistogram(total: \(totalCount), min: \(min), p50: \(p[0]), p99: \(p[1]), max: \(max), clamped: \(clampedCount))"
    }
}
