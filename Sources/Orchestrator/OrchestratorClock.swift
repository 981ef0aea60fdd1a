import Reactor

/// The two clocks the orchestrator reads: monotonic for timeouts and merge timing, wall for times
/// shared with drivers (start times, reports). Injected so the test book can be tested without
/// waiting.
public protocol OrchestratorClock: Sendable {
    /// Monotonic nanoseconds.
    func monotonicNs() -> UInt64
    /// Wall-clock milliseconds since the epoch.
    func wallMs() -> Int64
    /// Wall-clock microseconds since the epoch (drivers' clock offsets are estimated in µs).
    func wallUs() -> Int64
    /// CPU seconds the calling thread has used (what merging costs the orchestrator).
    func threadCPUSeconds() -> Double
}

extension OrchestratorClock {
    public func threadCPUSeconds() -> Double { callingThreadCPUSeconds() }
    public func wallUs() -> Int64 { wallMs() * 1_000 }
}

/// Reactor's `threadCPUSeconds` (the protocol's method of the same name hides it inside the extension).
private func callingThreadCPUSeconds() -> Double { threadCPUSeconds() }

/// The machine's clocks.
public struct SystemClock: OrchestratorClock {
    public init() {}
    public func monotonicNs() -> UInt64 { monotonicNanoseconds() }
    public func wallMs() -> Int64 { wallClockMilliseconds() }
    public func wallUs() -> Int64 { wallClockMicroseconds() }
}
