/// A pause after a step's response before the session's next step (`think_ms`): never part of a
/// request's latency. Milliseconds: a fixed number, uniform over `[MIN, MAX]`, or exponential
/// with a mean (Poisson arrivals of a user's clicks).
public enum ThinkTime: Sendable, Equatable, CustomStringConvertible {
    case fixed(ms: Double)
    case uniform(minMs: Double, maxMs: Double)
    case exponential(meanMs: Double)

    /// Longest a think time may be: an hour (a typo in a unit should not park every user).
    public static let maxMs: Double = 3_600_000

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case negative(Double)
        case inverted(Double, Double)
        case tooLong(Double)
        case malformed(String)

        public var description: String {
            switch self {
            case .negative(let v): return "must not be negative, got \(v)"
            case .inverted(let a, let b): return "MIN must not exceed MAX, got \(a)-\(b)"
            case .tooLong(let v): return "at most \(Int(ThinkTime.maxMs)) ms, got \(v)"
            case .malformed(let t): return "must be N, MIN-MAX or [MIN, MAX] (ms), or {\"mean\": M, \"dist\": \"exponential\"}, got '\(t)'"
            }
        }
    }

    /// Checks the range of each form.
    public func validated() throws(Problem) -> ThinkTime {
        switch self {
        case .fixed(let ms): try Self.check(ms)
        case .uniform(let a, let b):
            try Self.check(a)
            try Self.check(b)
            guard a <= b else { throw .inverted(a, b) }
        case .exponential(let mean): try Self.check(mean)
        }
        return self
    }

    /// The CLI's `--think-ms N|MIN-MAX`.
    public init(parsing text: String) throws(Problem) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 1, let n = Double(text) {
            self = try ThinkTime.fixed(ms: n).validated()
        } else if parts.count == 2, let a = Double(parts[0]), let b = Double(parts[1]) {
            self = try ThinkTime.uniform(minMs: a, maxMs: b).validated()
        } else if text.hasPrefix("-"), Double(text) != nil {
            throw .negative(Double(text)!)
        } else {
            throw .malformed(text)
        }
    }

    private static func check(_ ms: Double) throws(Problem) {
        guard ms.isFinite else { throw .malformed("\(ms)") }
        guard ms >= 0 else { throw .negative(ms) }
        guard ms <= maxMs else { throw .tooLong(ms) }
    }

    public var description: String {
        switch self {
        case .fixed(let v): return "\(v) ms"
        case .uniform(let a, let b): return "\(a)-\(b) ms"
        case .exponential(let m): return "exponential, mean \(m) ms"
        }
    }
}
