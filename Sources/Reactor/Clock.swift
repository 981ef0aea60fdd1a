import CLinux
import Glibc

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

/// CPU time the calling thread has used, in seconds (CLOCK_THREAD_CPUTIME_ID): how busy a
/// reactor thread was, to tell a saturated load generator from a slow server.
public func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
