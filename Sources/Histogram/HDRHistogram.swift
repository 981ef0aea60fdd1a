/// A plain (single-owner) HDR histogram: a value type with `Int64` counters.
///
/// Use it for everything that is not concurrent recording: per-thread recording on a reactor,
/// snapshots, merging (`add(_:)`), queries and encoding. Not thread-safe by itself; as a value
/// type, copies are independent. For recording from many threads use `AtomicHDRHistogram` or
/// `IntervalRecorder`.
public struct HDRHistogram: HistogramRecording, Sendable, Equatable {
    public let layout: HistogramLayout
    // Stored as @usableFromInline internals so `record` can be inlined into callers' hot loops.
    @usableFromInline var _counts: [Int64]
    @usableFromInline var _totalCount: Int64 = 0
    @usableFromInline var _clampedCount: Int64 = 0

    /// One counter per counts index (`layout.countsLength` of them).
    public var counts: [Int64] { _counts }
    /// Sum of all counters.
    public var totalCount: Int64 { _totalCount }
    /// How many recorded values were outside `0...highestTrackableValue` and clamped into it.
    public var clampedCount: Int64 { _clampedCount }

    /// An empty histogram with the given layout (default: Stampede's latency layout).
    public init(layout: HistogramLayout = .latency) {
        self.layout = layout
        self._counts = Array(repeating: 0, count: layout.countsLength)
    }

    /// A histogram with precomputed counters, e.g. from a decoder or an atomic snapshot.
    /// `counts.count` must equal `layout.countsLength`.
    init(layout: HistogramLayout, counts: [Int64], clampedCount: Int64) {
        precondition(counts.count == layout.countsLength)
        self.layout = layout
        self._counts = counts
        self._totalCount = counts.reduce(0, &+)
        self._clampedCount = clampedCount
    }

    @inlinable @inline(__always)
    public mutating func record(_ value: Int64, count: Int64) {
        let (index, clamped) = layout.clampedIndex(of: value)
        _counts[index] &+= count
        _totalCount &+= count
        if clamped { _clampedCount &+= count }
    }

    /// Adds every count of `other` into this histogram. Exact: merging N histograms gives the same
    /// counters as recording all their values into one.
    /// - Throws: `HistogramError.layoutMismatch` when the layouts differ.
    public mutating func add(_ other: HDRHistogram) throws(HistogramError) {
        guard other.layout == layout else { throw .layoutMismatch(layout, other.layout) }
        _counts.withUnsafeMutableBufferPointer { mine in
            other._counts.withUnsafeBufferPointer { theirs in
                for i in 0..<mine.count { mine[i] &+= theirs[i] }
            }
        }
        _totalCount &+= other._totalCount
        _clampedCount &+= other._clampedCount
    }

    /// Sets every counter to zero.
    public mutating func reset() {
        _counts.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        _totalCount = 0
        _clampedCount = 0
    }

    /// Count recorded at the counts index of `value`.
    public func count(at value: Int64) -> Int64 {
        let (index, _) = layout.clampedIndex(of: value)
        return counts[index]
    }
}

extension HDRHistogram: CustomStringConvertible {
    /// A one-line summary (never the 23k counters).
    public var description: String {
        let p = values(atPercentiles: [50, 99])
        return "HDRHistogram(total: \(totalCount), min: \(min), p50: \(p[0]), p99: \(p[1]), max: \(max), clamped: \(clampedCount))"
    }
}
