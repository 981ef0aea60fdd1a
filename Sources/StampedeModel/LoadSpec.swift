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

/// Every setting of a load run, by one name each. Adapters (CLI flags, REST fields, bus fields)
/// map a setting to their own name when they report an error.
public enum LoadSetting: String, Sendable, CaseIterable {
    case target, mode, connections, threads, requests, duration, delay, rate, timeout, method, headers, body, thresholds
}

/// A setting with a bad value. `setting` is the adapter-neutral name; each adapter reports it
/// under its own name (`--delay-ms`, `test_message_delay`, `delay_ms`).
public struct ConfigError: Error, Equatable, CustomStringConvertible {
    public let setting: LoadSetting
    public let reason: String
    public init(_ setting: LoadSetting, _ reason: String) { self.setting = setting; self.reason = reason }
    public var description: String { "\(setting.rawValue): \(reason)" }
}

/// Everything a load run needs, as every entry point (CLI, REST, bus) builds it. The defaults
/// here are the only defaults; `validate()` is the only validator.
public struct LoadSpec: Sendable {
    /// Connections per driver when none are given (`bench` documents its own: see `benchConnections`).
    public static let defaultConnections = 10
    /// `stampede bench` is one process, not a share of a distributed test: its default is the total.
    public static let benchConnections = 50
    public static let defaultTimeoutMs = 5_000
    public static let defaultDurationS = 10.0
    public static let connectionsRange = 1...100_000
    public static let threadsRange = 1...256
    public static let timeoutRange = 1...3_600_000
    public static let requestsRange = 1...1_000_000_000
    public static let maxDurationS = 86_400.0
    public static let maxDelayMs = 3_600_000.0
    public static let maxRate = 10_000_000.0

    public var target: TargetURL
    public var mode: LoadMode = .avalanche
    public var connections: Int = LoadSpec.defaultConnections
    public var threads: Int = 1
    public var stop: StopCondition = .duration(LoadSpec.defaultDurationS)
    public var pacing: Pacing?
    public var timeoutMs: Int = LoadSpec.defaultTimeoutMs
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

    /// Parses a target URL, failing as the `target` setting.
    public static func target(_ text: String) throws(ConfigError) -> TargetURL {
        do { return try TargetURL(parsing: text) } catch { throw ConfigError(.target, error.reason) }
    }

    /// Checks ranges, combinations, the method and the headers (as the request encoder will see
    /// them), before any socket opens.
    /// - Throws: `ConfigError` naming the first setting that is wrong.
    public func validate() throws(ConfigError) {
        guard Self.connectionsRange.contains(connections) else { throw ConfigError(.connections, "must be in 1...100000, got \(connections)") }
        guard Self.threadsRange.contains(threads) else { throw ConfigError(.threads, "must be in 1...256, got \(threads)") }
        guard Self.timeoutRange.contains(timeoutMs) else { throw ConfigError(.timeout, "must be in 1...3600000 ms, got \(timeoutMs)") }
        switch stop {
        case .requests(let n):
            guard Self.requestsRange.contains(n) else { throw ConfigError(.requests, "must be in 1...1000000000, got \(n)") }
        case .duration(let s):
            guard s > 0 && s <= Self.maxDurationS else { throw ConfigError(.duration, "must be positive and at most 86400 seconds, got \(s)") }
        }
        switch (mode, pacing) {
        case (.avalanche, .some(.delayMs)): throw ConfigError(.delay, "only applies to the tsunami mode")
        case (.avalanche, .some(.rate)): throw ConfigError(.rate, "only applies to the tsunami mode")
        case (.tsunami, nil): throw ConfigError(.delay, "the tsunami mode needs a delay between requests (or a rate)")
        case (.tsunami, .some(.delayMs(let d))):
            guard d > 0 && d <= Self.maxDelayMs else { throw ConfigError(.delay, "must be in (0, 3600000] ms, got \(d)") }
        case (.tsunami, .some(.rate(let r))):
            guard r > 0 && r <= Self.maxRate else { throw ConfigError(.rate, "must be in (0, 10000000] requests/s, got \(r)") }
        case (.avalanche, nil): break
        }
        // The encoder's own checks, so nothing passes here that it would refuse later.
        do { _ = try HTTPRequestEncoder.encode(method: method, url: target) } catch {
            throw ConfigError(.method, "must be an HTTP method token such as GET or POST, got '\(method)'")
        }
        do { _ = try HTTPRequestEncoder.encode(method: method, url: target, headers: headers) } catch {
            throw ConfigError(.headers, error.description)
        }
    }

    /// Nanoseconds between one connection's consecutive intended sends (tsunami).
    public var intervalNs: UInt64? {
        switch pacing {
        case .delayMs(let ms): return UInt64(ms * 1_000_000)
        case .rate(let r): return UInt64(Double(connections) / r * 1_000_000_000)
        case nil: return nil
        }
    }
}
