import HTTP1
import StampedeModel

/// A test as drivers receive it on the `test_config` topic: one driver's share of the load. The
/// bus adapter of `LoadSpec`: field names are the bus contract (docs/kafka.md).
public struct TestSpec: Codable, Sendable, Equatable {
    public var target: String
    public var mode: LoadMode
    public var connections: Int
    /// Exactly one of `requests` (per driver) and `duration_s`.
    public var requests: Int?
    public var duration_s: Double?
    public var delay_ms: Double?
    /// Tsunami: this driver's share of the total rate.
    public var rate: Double?
    public var timeout_ms: Int
    public var method: String
    public var headers: [String: String]
    public var body: String?
    public var threads: Int?
    /// A list of requests, in the JSON form `POST /tests` takes (`requests` there); replaces
    /// target, method, headers and body.
    public var request_list: JSONValue?
    public var order: RequestOrder?
    /// `session` when absent.
    public var cookies: CookieMode?
    /// Absent: 65536.
    public var capture_bytes: Int?
    /// Absent: 0 (a 3xx is a response).
    public var follow_redirects: Int?
    /// True: `rate` (or the stages) counts sessions starting per second (the open model).
    public var sessions_paced: Bool?
    public var seed: UInt64?
    /// The CSV data `{{row.COLUMN}}` reads.
    public var data_csv: String?
    /// This part's place among the test's drivers and where its sequence starts (a part handed
    /// over from a failed driver); nil: the driver's position in the message's `driver_ids`.
    public var shard: Int?
    public var shards: Int?
    public var seq_start: Int?
    /// Instead of `requests` or `duration_s`: the load over time (this driver's share of a rate).
    public var stages: [Stage]?
    public var start: Double?
    /// Local addresses to bind new connections to, round-robin.
    public var source_addrs: [String]?
    /// A test of several scenarios: this one's name and when it begins after the test's start,
    /// the drivers that run it (nil: every driver the message is for; a driver's shard is its
    /// place in this list), and the test's other scenarios, each a spec of its own.
    public var scenario: String?
    public var start_after_s: Double?
    public var scenario_drivers: [String]?
    public var scenarios: [TestSpec]?
    /// Instead of `requests` or `duration_s`: sessions in all, over every driver of the
    /// scenario (each takes its share by its place among them).
    public var sessions: Int?
    /// Steering: an avalanche's ceiling for raised connections, and whether a pause extends the run.
    public var max_connections: Int?
    public var pause_extends: Bool?

    public init(target: String, mode: LoadMode, connections: Int, requests: Int?, duration_s: Double?,
                delay_ms: Double? = nil, rate: Double? = nil, timeout_ms: Int = LoadSpec.defaultTimeoutMs, method: String = "GET",
                headers: [String: String] = [:], body: String? = nil, threads: Int? = nil) {
        self.target = target; self.mode = mode; self.connections = connections; self.requests = requests
        self.duration_s = duration_s; self.delay_ms = delay_ms; self.rate = rate; self.timeout_ms = timeout_ms
        self.method = method; self.headers = headers; self.body = body; self.threads = threads
    }

    /// The bus form of a load spec (threads are the driver's own unless `threads` is given).
    public init(_ spec: LoadSpec, threads: Int? = nil) {
        var requests: Int?, duration: Double?, delay: Double?, rate: Double?
        var profile: StageProfile?
        switch spec.stop {
        case .requests(let n): requests = n
        case .sessions: break
        case .duration(let s): duration = s
        case .stages(let p): profile = p
        }
        switch spec.pacing {
        case .delayMs(let d): delay = d
        case .rate(let r): rate = r
        case nil: break
        }
        self.init(target: spec.listForm ? spec.target.origin : spec.target.description, mode: spec.mode, connections: spec.connections, requests: requests,
                  duration_s: duration, delay_ms: delay, rate: rate, timeout_ms: spec.timeoutMs, method: spec.method,
                  headers: Dictionary(spec.headers, uniquingKeysWith: { _, last in last }),
                  body: spec.body.isEmpty ? nil : String(decoding: spec.body, as: UTF8.self), threads: threads)
        if spec.listForm {
            request_list = RequestList.json(spec.requests)
            self.method = "GET"; self.headers = [:]; self.body = nil
        }
        source_addrs = spec.sourceAddresses.isEmpty ? nil : spec.sourceAddresses
        stages = profile?.stages
        start = profile.map(\.start)
        order = spec.order == .random ? nil : spec.order
        if case .sessions(let n) = spec.stop { sessions = n }
        cookies = spec.cookies == .session ? nil : spec.cookies
        capture_bytes = spec.captureBytes == LoadSpec.defaultCaptureBytes ? nil : spec.captureBytes
        follow_redirects = spec.followRedirects == 0 ? nil : spec.followRedirects
        sessions_paced = spec.pacesSessions ? true : nil
        seed = spec.seed
        data_csv = spec.data?.text
        max_connections = spec.allocatedConnections > spec.connections ? spec.allocatedConnections : nil
        pause_extends = spec.pauseExtends ? true : nil
    }

    /// The scenarios `driver` runs (in the test's order), each with its load validated and its
    /// place among that scenario's drivers; `driverIDs`: the drivers the message is for.
    /// - Throws: `ConfigError`, its reason prefixed with the scenario's name.
    public func scenarioLoads(driver: String, driverIDs: [String]?, defaultThreads: Int) throws(ConfigError) -> [Scenario] {
        var result: [Scenario] = []
        let all = [self] + (scenarios ?? [])
        for (k, one) in all.enumerated() {
            var spec = one
            spec.scenarios = nil
            if let drivers = spec.scenario_drivers {
                // Its own drivers: a driver's place among them deals its numbers and rows.
                guard let index = drivers.firstIndex(of: driver) else { continue }
                spec.shard = index
                spec.shards = drivers.count
            } else if spec.shard == nil, let drivers = driverIDs, let index = drivers.firstIndex(of: driver) {
                spec.shard = index
                spec.shards = drivers.count
            } else if spec.shard == nil {
                spec.shard = shard
                spec.shards = shards
            }
            if spec.source_addrs == nil { spec.source_addrs = source_addrs }
            let name = spec.scenario ?? Scenario.defaultName
            do {
                var load = try spec.loadSpec(defaultThreads: defaultThreads, driverName: driver)
                load.scenarioIndex = k
                load.scenarioCount = all.count
                result.append(Scenario(name: name, load: load, startAfterS: spec.start_after_s ?? 0))
            } catch {
                throw ConfigError(error.setting, scenarios == nil ? error.reason : "scenario \(name): \(error.reason)", entry: error.entry, part: error.part)
            }
        }
        return result
    }

    /// The bus field that carries a setting.
    public static func field(_ setting: LoadSetting) -> String {
        switch setting {
        case .duration: return "duration_s"
        case .delay: return "delay_ms"
        case .timeout: return "timeout_ms"
        default: return setting.rawValue
        }
    }

    /// The bus field of a config error, with the failing entry (`request_list[1].url`).
    public static func field(_ error: ConfigError) -> String { field(error.setting) + error.entryPath }

    /// The load spec this message describes, validated.
    /// - Parameters:
    ///   - shard: the driver's place among the test's drivers, unless the message gives one.
    ///   - driverName: what `{{driver}}` renders to.
    /// - Throws: `ConfigError`; `TestSpec.field(error)` names the bus field.
    public func loadSpec(defaultThreads: Int, shard: Shard = Shard(), driverName: String = "local") throws(ConfigError) -> LoadSpec {
        var spec: LoadSpec
        if let request_list {
            let requests: [RequestSpec]
            do { requests = try RequestList.parse(request_list, field: "request_list") } catch {
                throw ConfigError(.requestList, "\(error.field): \(error.reason)")
            }
            spec = try LoadSpec(requests: requests)
        } else {
            spec = LoadSpec(target: try LoadSpec.target(target))
            spec.method = method.uppercased()
            spec.headers = headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            spec.body = body.map { Array($0.utf8) } ?? []
        }
        spec.order = order ?? .random
        spec.cookies = cookies ?? .session
        spec.captureBytes = capture_bytes ?? LoadSpec.defaultCaptureBytes
        spec.followRedirects = follow_redirects ?? 0
        spec.maxConnections = max_connections
        spec.pauseExtends = pause_extends ?? false
        spec.seed = seed
        if let data_csv {
            do { spec.data = try CSVData(parsing: data_csv) } catch { throw ConfigError(.data, error.reason) }
        }
        if let source_addrs { spec.sourceAddresses = try SourceAddresses.parse(source_addrs.joined(separator: ",")) }
        spec.shard = shard
        if let index = self.shard, let count = shards {
            guard count >= 1, (0..<count).contains(index), (seq_start ?? 0) >= 0 else {
                throw ConfigError(.requestList, "shard \(index) of \(count) (from \(seq_start ?? 0)) is not a place among the drivers")
            }
            spec.shard = Shard(index: index, count: count, start: seq_start ?? 0)
        }
        spec.driverName = driverName
        spec.threads = threads ?? defaultThreads
        spec.timeoutMs = timeout_ms
        var choices = LoadChoices()
        choices.mode = mode
        // Resolved by the orchestrator already (avalanche stages' highest target included).
        choices.defaultConnections = connections
        choices.requests = requests
        choices.durationS = duration_s
        if let total = sessions {
            // This driver's share of the sessions: split as evenly as whole sessions go.
            let place = spec.shard
            choices.sessions = total / Swift.max(1, place.count) + (place.index < total % Swift.max(1, place.count) ? 1 : 0)
        }
        choices.stages = stages
        choices.start = start
        choices.delayMs = delay_ms
        choices.rate = rate
        if sessions_paced == true {
            // The rate (or the stages' rates) counts sessions.
            if stages == nil, let r = rate {
                choices.sessionRate = .perSecond(r)
                choices.rate = nil
            } else {
                choices.sessionRate = .fromRates
            }
        }
        try spec.apply(choices)
        try spec.validate()
        return spec
    }
}
