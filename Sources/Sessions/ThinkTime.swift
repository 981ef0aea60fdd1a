import StampedeModel

/// Think time drawn per pause (the declaration and its rules are the model's).
extension ThinkTime {
    /// One pause in nanoseconds, drawn with `random` (the worker's seeded generator).
    public func sampleNs<R: RandomNumberGenerator>(_ random: inout R) -> UInt64 {
        let ms: Double
        switch self {
        case .fixed(let v): ms = v
        case .uniform(let a, let b): ms = a == b ? a : Double.random(in: a...b, using: &random)
        case .exponential(let mean):
            // Inverse transform; 1 - u is in (0, 1], so the log is finite. Capped at 20 means.
            let u = Double.random(in: 0..<1, using: &random)
            ms = Swift.min(-mean * _log(1 - u), 20 * mean)
        }
        return UInt64((ms * 1e6).rounded())
    }
}

#if canImport(Glibc)
import Glibc
private func _log(_ x: Double) -> Double { Glibc.log(x) }
#endif
