import Synchronization

/// An HDR histogram that many threads may record into at once, without locks.
///
/// Thread-safety: `record` is wait-free (one relaxed atomic add on the value's counter, plus one on
/// `clampedCount` for an out-of-range value). `snapshot()` may run concurrently with writers; each
/// counter it reads is exact, but the snapshot as a whole may be inconsistent (a value recorded
/// during the copy may or may not be in it). For a consistent per-interval view use `IntervalRecorder`.
/// `reset()` is only exact when no writer is active.
public final class AtomicHDRHistogram: HistogramRecording, @unchecked Sendable {
    // @unchecked: `counts` is only ever accessed through atomic operations and freed in deinit.
    public let layout: HistogramLayout
    @usableFromInline let counts: UnsafeMutablePointer<Atomic<Int64>>
    @usableFromInline let clamped = Atomic<Int64>(0)

    public init(layout: HistogramLayout = .latency) {
        self.layout = layout
        counts = .allocate(capacity: layout.countsLength)
        for i in 0..<layout.countsLength { (counts + i).initialize(to: Atomic(0)) }
    }

    deinit {
        counts.deinitialize(count: layout.countsLength)
        counts.deallocate()
    }

    @inlinable @inline(__always)
    public func record(_ value: Int64, count: Int64) {
        let (index, wasClamped) = layout.clampedIndex(of: value)
        (counts + index).pointee.wrappingAdd(count, ordering: .relaxed)
        if wasClamped { clamped.wrappingAdd(count, ordering: .relaxed) }
    }

    /// Values recorded outside `0...highestTrackableValue` (and clamped into it).
    public var clampedCount: Int64 { clamped.load(ordering: .relaxed) }

    /// A plain copy of the counters (see the type's note on concurrent writers).
    public func snapshot() -> HDRHistogram {
        HDRHistogram(layout: layout, clampedCount: clampedCount) { base in
            var total: Int64 = 0
            for i in 0..<layout.countsLength {
                let c = (counts + i).pointee.load(ordering: .relaxed)
                if c != 0 {
                    base[i] = c
                    total &+= c
                }
            }
            return total
        }
    }

    /// Sets every counter to zero. Values recorded concurrently may be lost; call without writers.
    public func reset() {
        for i in 0..<layout.countsLength { (counts + i).pointee.store(0, ordering: .relaxed) }
        clamped.store(0, ordering: .relaxed)
    }
}
