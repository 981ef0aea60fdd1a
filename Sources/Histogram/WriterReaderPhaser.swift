import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// HdrHistogram's writer-reader phaser: writers wrap each short critical section in
/// `enter()`/`exit(_:)` (wait-free: one atomic add each); a single reader calls `flipPhase()` after
/// redirecting writers elsewhere, and it returns once every writer that entered before the flip has
/// left. Readers must serialise among themselves (the caller holds a lock).
final class WriterReaderPhaser: Sendable {
    private let startEpoch = Atomic<Int64>(0)
    private let evenEndEpoch = Atomic<Int64>(0)
    private let oddEndEpoch = Atomic<Int64>(Int64.min)

    /// Enters a writer critical section; pass the result to `exit(_:)`.
    @inline(__always)
    func enter() -> Int64 {
        startEpoch.wrappingAdd(1, ordering: .sequentiallyConsistent).oldValue
    }

    @inline(__always)
    func exit(_ token: Int64) {
        // The sign of the epoch at entry says which phase the writer belonged to.
        if token < 0 {
            oddEndEpoch.wrappingAdd(1, ordering: .sequentiallyConsistent)
        } else {
            evenEndEpoch.wrappingAdd(1, ordering: .sequentiallyConsistent)
        }
    }

    /// Starts a new phase and waits until all writers of the previous phase have exited.
    func flipPhase() {
        let nextPhaseIsEven = startEpoch.load(ordering: .sequentiallyConsistent) < 0
        let initial: Int64 = nextPhaseIsEven ? 0 : Int64.min
        if nextPhaseIsEven {
            evenEndEpoch.store(initial, ordering: .sequentiallyConsistent)
        } else {
            oddEndEpoch.store(initial, ordering: .sequentiallyConsistent)
        }
        let startAtFlip = startEpoch.exchange(initial, ordering: .sequentiallyConsistent)
        while (nextPhaseIsEven ? oddEndEpoch.load(ordering: .sequentiallyConsistent)
                               : evenEndEpoch.load(ordering: .sequentiallyConsistent)) != startAtFlip {
            sched_yield()
        }
    }
}
