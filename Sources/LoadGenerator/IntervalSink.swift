import Histogram
import StampedeModel
import Synchronization

/// One worker's figures for one second of the run (the last one may be shorter).
struct IntervalSample: Sendable {
    let thread: Int
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
