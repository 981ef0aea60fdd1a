import Histogram
import Reactor
import StampedeModel
import Synchronization

/// One worker's figures for one second of the run (the last one may be shorter).
struct IntervalSample: Sendable {
    /// The worker's place among the run's workers (every scenario's), and its scenario.
    let worker: Int
    let scenario: Int
    let index: Int
    let final: Bool
    let figures: Figures
    /// Sockets open as the second ended.
    let connections: Int
}

/// Where workers drop their per-second samples for the coordinating thread: a mutex taken once a
/// second per worker, never on the request path.
final class IntervalSink: Sendable {
    private let samples = Mutex<[IntervalSample]>([])

    func push(_ sample: IntervalSample) {
        samples.withLock { $0.append(sample) }
    }

    func drain() -> [IntervalSample] {
        samples.withLock { s in
            defer { s.removeAll(keepingCapacity: true) }
            return s
        }
    }
}

/// A worker's place in a run of several scenarios: which scenario, its index among the run's
/// workers, its scenario's delay after the test's start, and the thread it shares.
struct WorkerPlace {
    var scenario = 0
    var slot = 0
    var startAfterNs: UInt64 = 0
    var thread = ThreadWorkers(count: 1)
}

/// The workers of one reactor thread (one per scenario with connections there): the thread's
/// reactor stops when the last of them has finished. Used on that thread only.
final class ThreadWorkers {
    private var remaining: Int
    init(count: Int) { remaining = count }

    func workerFinished(_ reactor: Reactor) {
        remaining -= 1
        if remaining == 0 { reactor.stop() }
    }
}
