/// One stage of a load profile: over `durationS` seconds the target moves linearly from the
/// previous stage's target (the first from the profile's `start`) to `target`, k6 style.
/// Tsunami: the target is a request rate (requests/s, the test's total). Avalanche: it is the
/// number of connections per driver.
public struct Stage: Sendable, Equatable, Codable {
    public var duration_s: Double
    public var target: Double

    public init(durationS: Double, target: Double) {
        duration_s = durationS
        self.target = target
    }
}

/// A piecewise-linear target over time, and for rates its integral (the number of requests
/// intended up to a time) and that integral's inverse (when the k-th request is intended).
public struct StageProfile: Sendable, Equatable {
    public let start: Double
    public let stages: [Stage]

    public init(start: Double, stages: [Stage]) { self.start = start; self.stages = stages }

    public var duration: Double { stages.reduce(0) { $0 + $1.duration_s } }
    public var peak: Double { stages.reduce(start) { Swift.max($0, $1.target) } }

    /// The same profile with every target multiplied by `factor` (one driver's share of a rate).
    public func scaled(_ factor: Double) -> StageProfile {
        StageProfile(start: start * factor, stages: stages.map { Stage(durationS: $0.duration_s, target: $0.target * factor) })
    }

    /// The target at `t` seconds from the start (the last stage's target after the end).
    public func target(at t: Double) -> Double {
        var from = start, t0 = 0.0
        for s in stages {
            if t < t0 + s.duration_s { return from + (s.target - from) * (t - t0) / s.duration_s }
            t0 += s.duration_s
            from = s.target
        }
        return from
    }

    /// ∫₀ᵗ target: for a rate, the requests intended in the first `t` seconds.
    public func integral(to t: Double) -> Double {
        var total = 0.0, from = start, t0 = 0.0
        for s in stages {
            let d = Swift.min(Swift.max(t - t0, 0), s.duration_s)
            let end = from + (s.target - from) * d / s.duration_s
            total += (from + end) / 2 * d
            if t <= t0 + s.duration_s { return total }
            t0 += s.duration_s
            from = s.target
        }
        return total
    }

    /// When the integral reaches `k` (the intended time of request k, counting from 0), or nil
    /// when it does not before the end.
    public func time(atIntegral k: Double) -> Double? {
        var before = 0.0, from = start, t0 = 0.0
        for s in stages {
            let area = (from + s.target) / 2 * s.duration_s
            if k < before + area {
                // before + from·τ + a·τ² = k with a = (to − from)/(2d): the root, in the form that
                // stays exact when a is 0 or negative.
                let a = (s.target - from) / (2 * s.duration_s), b = from, c = k - before
                let root = (b * b + 4 * a * c).squareRoot()
                let tau = b + root > 0 ? 2 * c / (b + root) : 0
                return t0 + Swift.min(Swift.max(tau, 0), s.duration_s)
            }
            before += area
            t0 += s.duration_s
            from = s.target
        }
        return nil
    }
}
