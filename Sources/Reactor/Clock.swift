import CLinux
import Glibc
import Synchronization

/// CLOCK_MONOTONIC in nanoseconds (vDSO, no syscall): the only clock latencies are measured with.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 { stampede_monotonic_ns() }

/// Wall-clock milliseconds since the Unix epoch (CLOCK_REALTIME): for times that cross machines
/// (a trigger's start time, a report's start), never for measuring durations.
@inline(__always)
public func wallClockMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Wall-clock microseconds since the epoch (CLOCK_REALTIME): clock-offset estimates between hosts.
public func wallClockMicroseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
}

/// CPU time the calling thread has used, in seconds (CLOCK_THREAD_CPUTIME_ID): how busy a
/// reactor thread was, to tell a saturated load generator from a slow server.
public func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// A monotonic clock in nanoseconds, injected where time decides behaviour (timeouts, pacing,
/// backoff) so that logic can be driven by a manual clock in tests.
public protocol MonotonicClock: Sendable {
    func nanoseconds() -> UInt64
}

/// CLOCK_MONOTONIC: the production clock.
public struct SystemMonotonicClock: MonotonicClock {
    public init() {}
    @inline(__always) public func nanoseconds() -> UInt64 { stampede_monotonic_ns() }
}

/// A clock that moves only when told (tests).
public final class ManualMonotonicClock: MonotonicClock {
    private let now: Mutex<UInt64>

    public init(nanoseconds: UInt64 = 1_000_000_000) { now = Mutex(nanoseconds) }

    public func nanoseconds() -> UInt64 { now.withLock { $0 } }

    public func advance(milliseconds: UInt64) { now.withLock { $0 += milliseconds * 1_000_000 } }
}
