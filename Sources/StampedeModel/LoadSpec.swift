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
    /// The load follows stages (a rate for tsunami, connections for avalanche) and stops at their end.
    case stages(StageProfile)
    /// `order: sequence`, closed loop: exactly this many sessions, each run to its end (k6's
    /// shared iterations), shared by the connections.
    case sessions(Int)
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
    /// The list of requests (REST `requests`, CLI `--targets`); an error names the entry and its part.
    case requestList = "request_list"
    case order, seed, data, stages, start
    /// Capacity search.
    case slo, startRate = "start_rate", maxRate = "max_rate", stepS = "step_s"
    case sourceAddrs = "source_addrs"
    case cookies
    case captureBytes = "capture_bytes"
    /// The think time of the single request (the CLI's `--think-ms` without a list).
    case thinkTime = "think_ms"
    case followRedirects = "follow_redirects"
    case sessionRate = "session_rate"
    /// Several populations at once, and when one begins after the test's start.
    case scenarios
    case startAfter = "start_after_s"
    case sessions
}

/// A setting with a bad value. `setting` is the adapter-neutral name; each adapter reports it
/// under its own name (`--delay-ms`, `test_message_delay`, `delay_ms`).
public struct ConfigError: Error, Equatable, CustomStringConvertible {
    public let setting: LoadSetting
    public let reason: String
    /// For `requestList`: the entry (0-based) and its part (`url`, `weight`, ...).
    public let entry: Int?
    public let part: String?
    public init(_ setting: LoadSetting, _ reason: String, entry: Int? = nil, part: String? = nil) {
        self.setting = setting; self.reason = reason; self.entry = entry; self.part = part
    }
    /// The failing entry and part as a suffix of the adapter's field name: `[2].url`.
    public var entryPath: String {
        guard let entry else { return "" }
        return "[\(entry)]" + (part.map { ".\($0)" } ?? "")
    }
    public var description: String { "\(setting.rawValue)\(entryPath): \(reason)" }
}

/// A driver's place among the drivers of a test: `{{seq}}` and data rows are dealt out by it, so
/// no two drivers use the same number (or, until the data wraps, the same row).
public struct Shard: Sendable, Equatable {
    public var index: Int
    public var count: Int
    /// The driver's first sequence number counts from here (a part handed over from a failed driver
    /// goes on where it stopped).
    public var start: Int
    public init(index: Int = 0, count: Int = 1, start: Int = 0) { self.index = index; self.count = count; self.start = start }

    /// The test-wide sequence number of this driver's `n`-th request (0-based).
    public func sequence(_ n: Int) -> Int { index + count * (start + n) }
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

    /// The origin (and, for the short form, the URL) every request goes to.
    public private(set) var target: TargetURL
    /// What is sent: one request (the short form: `target`, `method`, `headers`, `body`) or a list.
    public var requests: [RequestSpec]
    /// True when the requests came as a list (`requests`, `--targets`): results are then also
    /// reported per name, and errors name the entry.
    public var listForm = false
    public var order: RequestOrder = .random
    /// What connections do with cookies (see `CookieMode`).
    public var cookies: CookieMode = .session
    /// How many bytes of a body `capture` and `expect_body` read at most (decoded when gzip).
    public var captureBytes = LoadSpec.defaultCaptureBytes
    public static let defaultCaptureBytes = 65_536
    public static let captureBytesRange = 1...(16 << 20)
    /// Redirects (301, 302, 303, 307, 308) followed per request; 0: a 3xx is a response.
    public var followRedirects = 0
    public static let followRedirectsRange = 0...20
    /// Tsunami, `order: sequence`: the rate (or the stages' targets) counts sessions starting per
    /// second, each on a free connection (the open model), instead of requests.
    public var pacesSessions = false
    /// Seeds the random mix and the random templates; nil: drawn at start (and reported).
    public var seed: UInt64?
    public var data: CSVData?
    public var shard = Shard()
    /// What `{{driver}}` renders to.
    public var driverName = "local"
    /// What `{{scenario}}` renders to, and the scenario's place among the test's (its `{{seq}}`
    /// and `{{session}}` numbers are interleaved with the others' to stay unique test-wide).
    public var scenarioName = Scenario.defaultName
    public var scenarioIndex = 0
    public var scenarioCount = 1
    /// Local addresses new connections bind to, round-robin (empty: the kernel picks).
    public var sourceAddresses: [String] = []
    public var mode: LoadMode = .avalanche
    public var connections: Int = LoadSpec.defaultConnections
    /// Avalanche without stages: how far its connections may be raised while it runs
    /// (`max_connections`, per driver; nil: no higher than `connections`).
    public var maxConnections: Int?
    /// A pause extends a timed run by the paused time (`pause_extends`); otherwise it eats into it.
    public var pauseExtends = false
    /// A TestConfig's avalanche may be raised to this many times its connections unless it says
    /// (`max_connections`): the resting ones hold no socket.
    public static let defaultSteeringHeadroom = 4
    public var threads: Int = 1
    public var stop: StopCondition = .duration(LoadSpec.defaultDurationS)
    public var pacing: Pacing?
    public var timeoutMs: Int = LoadSpec.defaultTimeoutMs
    /// Skip TLS certificate verification.
    public var insecure = false
    /// Verify TLS against this CA bundle instead of the system store.
    public var caFile: String?
    /// Pin reactor thread i to CPU i (mod the CPU count).
    public var pinThreads = false

    /// The short form: one request to `target`.
    public init(target: TargetURL) {
        self.target = target
        requests = [RequestSpec(url: target.description)]
    }

    /// The list form. The first request's origin is the test's.
    /// - Throws: `ConfigError` when the list is empty or the first URL does not parse.
    public init(requests: [RequestSpec]) throws(ConfigError) {
        guard let first = requests.first else { throw ConfigError(.requestList, "needs at least one request") }
        let text = (try? Template(parsing: first.url, columns: [])).map { $0.sample(row: nil) } ?? first.url
        do { target = try TargetURL(parsing: text) } catch {
            throw ConfigError(.requestList, error.reason, entry: 0, part: "url")
        }
        self.requests = requests
        listForm = true
    }

    /// The short form's method, headers and body (the first request's).
    public var method: String {
        get { requests[0].method }
        set { requests[0].method = newValue }
    }
    public var headers: [(String, String)] {
        get { requests[0].headers }
        set { requests[0].headers = newValue }
    }
    public var body: [UInt8] {
        get { requests[0].body }
        set { requests[0].body = newValue }
    }

    /// Parses a target URL, failing as the `target` setting.
    public static func target(_ text: String) throws(ConfigError) -> TargetURL {
        do { return try TargetURL(parsing: text) } catch { throw ConfigError(.target, error.reason) }
    }

    /// Checks ranges, combinations, the method and the headers (as the request encoder will see
    /// them), before any socket opens. Returns the request list compiled (templates parsed,
    /// variables placed), to be carried to where it is used rather than compiled again.
    /// - Throws: `ConfigError` naming the first setting that is wrong.
    @discardableResult
    public func validate() throws(ConfigError) -> [CompiledRequest] {
        guard Self.connectionsRange.contains(connections) else { throw ConfigError(.connections, "must be in 1...100000, got \(connections)") }
        if let maxConnections {
            guard mode == .avalanche, stages == nil else {
                throw ConfigError(.connections, "max_connections: only an avalanche without stages raises its connections while it runs")
            }
            guard maxConnections >= connections, maxConnections <= Self.connectionsRange.upperBound else {
                throw ConfigError(.connections, "max_connections: must be in \(connections)...\(Self.connectionsRange.upperBound) (at least connections), got \(maxConnections)")
            }
        }
        guard Self.threadsRange.contains(threads) else { throw ConfigError(.threads, "must be in 1...256, got \(threads)") }
        guard Self.timeoutRange.contains(timeoutMs) else { throw ConfigError(.timeout, "must be in 1...3600000 ms, got \(timeoutMs)") }
        guard Self.captureBytesRange.contains(captureBytes) else {
            throw ConfigError(.captureBytes, "must be in 1...16777216 bytes, got \(captureBytes)")
        }
        guard Self.followRedirectsRange.contains(followRedirects) else {
            throw ConfigError(.followRedirects, "must be in 0...20 hops, got \(followRedirects)")
        }
        if pacesSessions {
            guard mode == .tsunami else { throw ConfigError(.sessionRate, "only applies to the tsunami mode (avalanche: each connection is a user running session after session)") }
            guard order == .sequence else { throw ConfigError(.sessionRate, "needs order: sequence (each pass through the list is one session)") }
            if case .delayMs = pacing { throw ConfigError(.delay, "a session rate paces sessions: leave the delay out") }
        }
        switch stop {
        case .requests(let n):
            guard Self.requestsRange.contains(n) else { throw ConfigError(.requests, "must be in 1...1000000000, got \(n)") }
        case .sessions(let n):
            // A driver's share of a total may be none (fewer sessions than drivers): it then sends nothing.
            guard Self.requestsRange.contains(n) || (n == 0 && shard.count > 1) else {
                throw ConfigError(.sessions, "must be in 1...1000000000, got \(n)")
            }
            guard order == .sequence else { throw ConfigError(.sessions, "counts sessions, and only order: sequence has them (each pass through the list is one)") }
            guard mode == .avalanche else {
                throw ConfigError(.sessions, "applies to the avalanche mode (a closed loop of users); a tsunami's rate says how many sessions start")
            }
        case .duration(let s):
            guard s > 0 && s <= Self.maxDurationS else { throw ConfigError(.duration, "must be positive and at most 86400 seconds, got \(s)") }
        case .stages(let profile):
            try validate(profile)
        }
        switch (mode, pacing) {
        case (.tsunami, nil) where stages != nil: break
        case (.tsunami, .some(.delayMs)) where stages != nil: throw ConfigError(.delay, "stages set the rate of a tsunami: leave this out")
        case (.tsunami, .some(.rate)) where stages != nil: throw ConfigError(.rate, "stages set the rate of a tsunami: leave this out")
        case (.avalanche, .some(.delayMs)): throw ConfigError(.delay, "only applies to the tsunami mode")
        case (.avalanche, .some(.rate)): throw ConfigError(.rate, "only applies to the tsunami mode")
        case (.tsunami, nil): throw ConfigError(.delay, "the tsunami mode needs a delay between requests (or a rate)")
        case (.tsunami, .some(.delayMs(let d))):
            guard d > 0 && d <= Self.maxDelayMs else { throw ConfigError(.delay, "must be in (0, 3600000] ms, got \(d)") }
        case (.tsunami, .some(.rate(let r))):
            guard r > 0 && r <= Self.maxRate else {
                throw ConfigError(pacesSessions ? .sessionRate : .rate, "must be in (0, 10000000] \(pacesSessions ? "sessions" : "requests")/s, got \(r)")
            }
        case (.avalanche, nil): break
        }
        return try compiled()
    }

    /// The stages, when the load follows them.
    public var stages: StageProfile? { if case .stages(let p) = stop { return p } else { return nil } }

    private func validate(_ profile: StageProfile) throws(ConfigError) {
        guard !profile.stages.isEmpty else { throw ConfigError(.stages, "needs at least one stage") }
        guard profile.start.isFinite, profile.start >= 0 else { throw ConfigError(.start, "must be a number >= 0, got \(profile.start)") }
        let limit = mode == .tsunami ? Self.maxRate : Double(Self.connectionsRange.upperBound)
        let unit = mode == .tsunami ? "requests/s (tsunami: the total rate)" : "connections per driver (avalanche)"
        guard profile.start <= limit else { throw ConfigError(.start, "must be at most \(Int(limit)) \(unit), got \(profile.start)") }
        for (k, s) in profile.stages.enumerated() {
            guard s.duration_s.isFinite, s.duration_s > 0 else {
                throw ConfigError(.stages, "stage \(k + 1): the duration must be positive, got \(s.duration_s) s", entry: k, part: "duration_s")
            }
            guard s.target.isFinite, s.target >= 0, s.target <= limit else {
                throw ConfigError(.stages, "stage \(k + 1): the target must be 0...\(Int(limit)) \(unit), got \(s.target)", entry: k, part: "target")
            }
        }
        guard profile.duration <= Self.maxDurationS else { throw ConfigError(.stages, "last at most 86400 seconds in all, got \(profile.duration)") }
        guard profile.peak > 0 else { throw ConfigError(.stages, "every target is 0: nothing would be sent") }
        if mode == .avalanche && Double(connections) < profile.peak.rounded(.up) {
            throw ConfigError(.connections, "avalanche stages need \(Int(profile.peak.rounded(.up))) connections (the highest target), got \(connections)")
        }
    }

    /// A timed tsunami at a request rate: its schedule intends rate × duration requests, and
    /// those it could not send are counted (`unsent`).
    public var schedulesRequests: Bool {
        guard mode == .tsunami && !pacesSessions else { return false }
        if case .requests = stop { return false }
        if case .sessions = stop { return false }
        return true
    }

    /// Tsunami at a constant pace: the driver's slots per second (its rate, or its connections'
    /// delay turned into one).
    /// Connections each driver allocates: room for `max_connections` in a steerable avalanche.
    public var allocatedConnections: Int {
        guard mode == .avalanche, stages == nil, let maxConnections else { return connections }
        return Swift.max(connections, maxConnections)
    }

    public var slotsPerSecond: Double? {
        switch pacing {
        case .delayMs(let ms): return Double(connections) * 1000 / ms
        case .rate(let r): return r
        case nil: return nil
        }
    }
}

/// A duration as people write it on a command line: `30`, `0.5`, `500ms`, `10s`, `2m`, `1h`
/// (plain numbers are seconds). Nil when it is not one; the sign is the caller's to judge.
public func seconds(fromDuration text: String) -> Double? {
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3_600)]
    let unit = units.first { text.hasSuffix($0.0) && Double(text.dropLast($0.0.count)) != nil }
    guard let number = Double(unit.map { String(text.dropLast($0.0.count)) } ?? text), number.isFinite else { return nil }
    return number * (unit?.1 ?? 1)
}
