import CLinux

/// CLOCK_MONOTONIC in nanoseconds (vDSO, no syscall): the only clock latencies are measured with.
@inline(__always)
public func monotonicNanoseconds() -> UInt64 { stampede_monotonic_ns() }
