import Synchronization

/// Records from many threads and hands out "the histogram of the last interval" without stopping
/// them: HdrHistogram's Recorder. Two atomic histograms alternate; writers record into the active
/// one inside a phaser critical section, and `intervalHistogram()` makes the other one active, waits
/// for writers still on the old one (a few nanoseconds) and returns its counts.
///
/// Thread-safety: `record` is lock-free and may be called from any number of threads.
/// `intervalHistogram()` may be called from any thread; concurrent calls are serialised by a lock on
/// the reader side only. Every recorded value appears in exactly one interval.
public final class IntervalRecorder: HistogramRecording, Sendable {
    public let layout: HistogramLayout
    // Two properties rather than an array: indexing an array of class references costs a
    // retain/release pair per record.
    private let first: AtomicHDRHistogram
    private let second: AtomicHDRHistogram
    private let activeIndex = Atomic<Int>(0)
    private let phaser = WriterReaderPhaser()
    private let readerLock = Mutex<Void>(())

    public init(layout: HistogramLayout = .latency) {
        self.layout = layout
        first = AtomicHDRHistogram(layout: layout)
        second = AtomicHDRHistogram(layout: layout)
    }

    @inline(__always)
    public func record(_ value: Int64, count: Int64) {
        let token = phaser.enter()
        if activeIndex.load(ordering: .sequentiallyConsistent) == 0 {
            first.record(value, count: count)
        } else {
            second.record(value, count: count)
        }
        phaser.exit(token)
    }

    /// The values recorded since the previous call (or since creation), as a plain histogram.
    public func intervalHistogram() -> HDRHistogram {
        readerLock.withLock { _ in
            let old = activeIndex.load(ordering: .sequentiallyConsistent)
            let next = 1 - old
            // No writer is on `next`: the previous flip waited for the last of them.
            (next == 0 ? first : second).reset()
            activeIndex.store(next, ordering: .sequentiallyConsistent)
            phaser.flipPhase()
            return (old == 0 ? first : second).snapshot()
        }
    }
}
