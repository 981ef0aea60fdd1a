import HTTP1

/// The two load shapes.
public enum LoadMode: String, Sendable, Codable, CaseIterable {
    /// Closed loop: each connection sends its next request as soon as the previous response ends.
    case avalanche
    /// Paced: each connection sends on a fixed schedule; latency counts from the intended send time.
    case tsunami
}

/// When a run ends.
public enum StopCondition: Sendable, Equatable {
    /// Exactly this many requests are sent (never more: no extras in flight).
    case requests(Int)
    /// Sending stops after this many seconds; requests in flight then finish (within the timeout).
    case duration(Double)
}

/// How a tsunami run is paced.
public enum Pacing: Sendable, Equatable {
    /// Each connection sends every `ms` milliseconds.
    case delayMs(Double)
    /// `perSecond` requests per second in total, spread evenly over the connections.
    case rate(Double)
}

/// Everything a load run needs. Validated by `validate()` before any socket opens.
public struct LoadConfig: Sendable {
    public var target: TargetURL
    public var mode: LoadMode = .avalanche
    public var connections: Int = 50
    public var threads: Int = 1
    public var stop: StopCondition = .duration(10)
    public var pacing: Pacing?
    public var timeoutMs: Int = 5_000
    public var method: String = "GET"
    public var headers: [(String, String)] = []
    public var body: [UInt8] = []
    /// Skip TLS certificate verification.
    public var insecure = false
    /// Verify TLS against this CA bundle instead of the system store.
    public var caFile: String?
    /// Pin reactor thread i to CPU i (mod the CPU count).
    public var pinThreads = false

    public init(target: TargetURL) { self.target = target }

    /// Checks ranges and combinations. The error names the setting, as the CLI flag or JSON field.
    public func validate() throws(ConfigError) {
        guard (1...100_000).contains(connections) else { throw ConfigError(field: "connections", reason: "must be in 1...100000, got \(connections)") }
        guard (1...256).contains(threads) else { throw ConfigError(field: "threads", reason: "must be in 1...256, got \(threads)") }
        guard (1...3_600_000).contains(timeoutMs) else { throw ConfigError(field: "timeout-ms", reason: "must be in 1...3600000, got \(timeoutMs)") }
        switch stop {
        case .requests(let n): guard n >= 1 else { throw ConfigError(field: "requests", reason: "must be >= 1, got \(n)") }
        case .duration(let s): guard s > 0 && s <= 86_400 else { throw ConfigError(field: "duration", reason: "must be in (0, 86400] seconds, got \(s)") }
        }
        switch (mode, pacing) {
        case (.avalanche, .some(.delayMs)): throw ConfigError(field: "delay-ms", reason: "only applies to --mode tsunami")
        case (.avalanche, .some(.rate)): throw ConfigError(field: "rate", reason: "only applies to --mode tsunami")
        case (.tsunami, nil): throw ConfigError(field: "mode", reason: "tsunami needs --delay-ms or --rate")
        case (.tsunami, .some(.delayMs(let d))):
            guard d > 0 && d <= 3_600_000 else { throw ConfigError(field: "delay-ms", reason: "must be in (0, 3600000], got \(d)") }
        case (.tsunami, .some(.rate(let r))):
            guard r > 0 && r <= 10_000_000 else { throw ConfigError(field: "rate", reason: "must be in (0, 10000000], got \(r)") }
        default: break
        }
    }

    /// Nanoseconds between one connection's consecutive intended sends (tsunami).
    var intervalNs: UInt64? {
        switch pacing {
        case .delayMs(let ms): return UInt64(ms * 1_000_000)
        case .rate(let r): return UInt64(Double(connections) / r * 1_000_000_000)
        case nil: return nil
        }
    }
}

/// A setting with a bad value: `field` is the CLI flag (without dashes) or the JSON field.
public struct ConfigError: Error, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public init(field: String, reason: String) { self.field = field; self.reason = reason }
    public var description: String { "\(field): \(reason)" }
}
