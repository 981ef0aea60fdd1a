import Histogram
import Synchronization

/// The connect phase of a run: every connection is opened (at most `LoadRun.connectsInFlight`
/// at a time) before the measured schedule starts, so the first second measures the server's
/// answers rather than SYN retransmits of a listen backlog overflowed by thousands of connects.
public struct ConnectPhase: Sendable {
    /// Seconds from the first connect to the last connection's first connect ending.
    public let seconds: Double
    /// Connections established in the phase, and those whose first connect failed (they keep
    /// retrying during the test).
    public let established: Int
    public let failed: Int
    /// Time to establish each connection (TCP, and TLS where used), µs.
    public let connectTime: HDRHistogram
    /// With a start time given in advance: how far the phase ran past it (0 when it ended in time).
    public let lateSeconds: Double

    static func merged(_ parts: [WorkerPhase], runStart: UInt64, scheduleStart: UInt64?) throws -> ConnectPhase {
        var time = HDRHistogram()
        for p in parts { try time.add(p.connectTime) }
        let end = parts.map(\.endedAt).max() ?? runStart
        let late = scheduleStart.map { end > $0 ? Double(end - $0) / 1e9 : 0 } ?? 0
        return ConnectPhase(seconds: Double(end &- runStart) / 1e9, established: parts.map(\.established).reduce(0, +),
                            failed: parts.map(\.failed).reduce(0, +), connectTime: time, lateSeconds: late)
    }
}

/// One worker's connect phase.
struct WorkerPhase: Sendable {
    var established = 0
    var failed = 0
    var connectTime = HDRHistogram()
    /// Monotonic ns when its last first-connect ended.
    var endedAt: UInt64 = 0
}

/// When the measured schedule starts, shared by a run's workers: known in advance (a distributed
/// test's `start_at_ms`) or set by the coordinating thread once every worker's connect phase has
/// ended (`stampede bench`).
final class StartGate: Sendable {
    private let state: Mutex<(start: UInt64?, phases: [WorkerPhase?])>

    init(workers: Int, start: UInt64?) {
        state = Mutex((start, Array(repeating: nil, count: workers)))
    }

    /// Monotonic ns of the schedule's start, once known.
    var start: UInt64? { state.withLock { $0.start } }

    /// Sets the start if nobody has; returns the start in force.
    func open(at time: UInt64) -> UInt64 {
        state.withLock { s in
            if s.start == nil { s.start = time }
            return s.start!
        }
    }

    /// A worker's phase ended (the first report of each worker counts).
    func report(worker: Int, _ phase: WorkerPhase) {
        state.withLock { s in if s.phases[worker] == nil { s.phases[worker] = phase } }
    }

    /// Every worker's phase, once all have reported.
    var phases: [WorkerPhase]? {
        state.withLock { s in s.phases.contains(where: { $0 == nil }) ? nil : s.phases.map { $0! } }
    }
}
