/// A change to a running test's load (steering): one scenario's, from an instant on. Values are
/// one driver's share, split from the test's total as at the start.
public struct LoadChange: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A tsunami's requests per second.
        case rate(Double)
        /// An avalanche's connections (its users).
        case connections(Int)
        /// A tsunami's sessions per second (`session_rate`).
        case sessionRate(Double)
        case pause
        case resume
    }

    public var scenario: Int
    public var kind: Kind

    public init(scenario: Int, kind: Kind) {
        self.scenario = scenario
        self.kind = kind
    }
}

/// A constant pace changed while the run goes: from `atS` seconds after the schedule's start,
/// `perSecond` (0 while paused); `integral`: the slots (or arrivals) reached by then.
public struct PaceSegment: Sendable, Equatable {
    public var atS: Double
    public var integral: Double
    public var perSecond: Double
}

/// A rate that changes and pauses while a test runs. Slot n is due where the integral of the
/// rate reaches n, so a change moves every later slot and none before it: each request's
/// intended time comes from the changed schedule (latency still counts from it), and what a
/// paused stretch would have sent is never due.
public struct Pace: Sendable, Equatable {
    /// The rate the run began with.
    public let base: Double
    public private(set) var segments: [PaceSegment] = []
    /// Seconds since the start at which the pace was paused (nil: it runs).
    public private(set) var pausedAt: Double?
    /// The rate that applies when not paused (a change while paused takes effect at the resume).
    public private(set) var rate: Double

    public init(base: Double) {
        self.base = base
        rate = base
    }

    public var isPaused: Bool { pausedAt != nil }

    /// From `atS` on, `perSecond` (while paused: from the resume on).
    public mutating func set(_ perSecond: Double, atS: Double) {
        rate = perSecond
        if pausedAt == nil { append(atS: atS, perSecond: perSecond) }
    }

    public mutating func pause(atS: Double) {
        guard pausedAt == nil else { return }
        append(atS: atS, perSecond: 0)
        pausedAt = segments.last?.atS ?? atS
    }

    /// Returns the seconds the pace was paused (nil: it was not).
    @discardableResult
    public mutating func resume(atS: Double) -> Double? {
        guard let since = pausedAt else { return nil }
        append(atS: atS, perSecond: rate)
        pausedAt = nil
        return Swift.max(0, (segments.last?.atS ?? atS) - since)
    }

    /// Slots due from the start to `t` seconds.
    public func integral(to t: Double) -> Double {
        guard let k = segments.lastIndex(where: { $0.atS <= t }) else { return base * Swift.max(0, t) }
        let s = segments[k]
        return s.integral + (t - s.atS) * s.perSecond
    }

    /// Seconds from the start at which the integral reaches `n`; nil when it never does (paused).
    @inline(__always)
    public func time(atIntegral n: Double) -> Double? {
        guard let first = segments.first, n >= first.integral else { return n / base }
        let s = segments[segments.lastIndex { $0.integral <= n }!]
        guard s.perSecond > 0 else { return nil }
        return s.atS + (n - s.integral) / s.perSecond
    }

    private mutating func append(atS: Double, perSecond: Double) {
        // Changes come in order; one at or before the last one's instant replaces it there.
        if let last = segments.last, atS <= last.atS {
            segments[segments.count - 1].perSecond = perSecond
            return
        }
        segments.append(PaceSegment(atS: Swift.max(0, atS), integral: integral(to: Swift.max(0, atS)), perSecond: perSecond))
    }
}

/// A change a driver applied after its instant had passed (it came late, e.g. across a slow
/// link): its `seq` and by how much. Carried in the driver's final message and the report.
public struct LateChange: Codable, Sendable, Equatable {
    public var seq: Int
    public var late_ms: Double

    public init(seq: Int, late_ms: Double) { self.seq = seq; self.late_ms = late_ms }
}

/// One change in a report's `changes`: when (seconds from the start), which scenario, which
/// field, and the test's total before and after (`paused`: false and true for a pause).
public struct ChangeRecord: Codable, Sendable, Equatable {
    public enum Value: Codable, Sendable, Equatable {
        case number(Double)
        case flag(Bool)

        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .flag(b) } else { self = .number(try c.decode(Double.self)) }
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .number(let n): try c.encode(n)
            case .flag(let b): try c.encode(b)
            }
        }

        public var number: Double? { if case .number(let n) = self { n } else { nil } }
    }

    public var seq: Int
    public var at_s: Double
    public var scenario: String
    public var field: String
    public var from: Value
    public var to: Value

    public init(seq: Int, at_s: Double, scenario: String, field: String, from: Value, to: Value) {
        self.seq = seq; self.at_s = at_s; self.scenario = scenario; self.field = field; self.from = from; self.to = to
    }
}
