import HTTP1
import StampedeModel

/// A test as posted to `POST /tests` (the REST adapter of `LoadSpec`): the original system's
/// fields `test_id`, `test_type`, `test_message_delay` and `message_count_per_driver`, and
/// Stampede's own (docs/rest-api.md). Type checks happen here; ranges and combinations in
/// `LoadSpec.validate()`, whose errors are reported under the REST field names.
public struct TestConfig: Sendable {
    public var testID: String
    /// The test's family (`checkout-nightly`): its finished runs are listed by `GET /history/NAME`.
    public var name: String?
    /// One driver's load; `rate` (tsunami) is the total over all drivers (see `spec(driverCount:)`).
    public var load: LoadSpec
    /// How many drivers to use; nil: every idle one.
    public var drivers: Int?
    public var thresholds: [Threshold]
    /// Only drivers carrying every one of these labels run the test.
    public var driverSelector: [String: String] = [:]
    /// `test_type: SEARCH`: the capacity search (its steps are tsunami parts of `step_s` seconds).
    public var search: CapacitySearch?
    /// A search with scenarios: the one whose rate it searches (the others run at their load in
    /// every step).
    public var searchScenario: String?
    /// The request body as received, echoed in GET /tests/{id}.
    public var original: JSONValue
    /// `load`'s request list as validation compiled it (a change of `load` keeps its requests).
    public let compiled: [CompiledRequest]
    /// What the test aims at, in words.
    public var label: String { load.label(compiled: compiled) }
    /// Its populations, in name order: `scenarios` as given, or the test itself as one named
    /// `default` (whose load is `load`). `load` is the first's.
    public var scenarios: [Scenario]

    public var mode: LoadMode { load.mode }
    public var target: TargetURL { load.target }
    /// Requests per driver (count-based tests), nil for duration-based ones.
    public var requestsPerDriver: Int? { if case .requests(let n) = load.stop { return n } else { return nil } }

    /// Every field a TestConfig may have (`TestConfigField`): anything else is refused by name.
    public static let knownFields: Set<String> = Set(TestConfigField.allCases.map(\.rawValue))

    /// The REST field that carries a setting.
    public static func field(_ setting: LoadSetting) -> String {
        switch setting {
        case .mode: return "test_type"
        case .requests: return "message_count_per_driver"
        case .duration: return "duration_s"
        case .delay: return "test_message_delay"
        case .timeout: return "timeout_ms"
        case .requestList: return "requests"
        default: return setting.rawValue
        }
    }

    /// The REST field of a config error, with the failing entry (`requests[1].url`).
    public static func field(_ error: ConfigError) -> String { field(error.setting) + error.entryPath }

    /// Validates a TestConfig body.
    /// - Throws: `FieldError` naming the first field that is wrong (or "body" for broken JSON).
    public init(json bytes: [UInt8], generatedID: () -> String) throws(FieldError) {
        guard let value = JSONValue.parse(bytes) else { throw FieldError(.body, JSONValue.syntaxProblem(bytes)) }
        guard case .object(let object) = value else { throw FieldError(.body, "must be a JSON object") }
        if let twice = JSONDuplicateNames.first(in: bytes) {
            throw FieldError(twice, "is given twice: each name may appear once in an object (which one counts is not defined)")
        }
        if let unknown = object.keys.sorted().first(where: { !Self.knownFields.contains($0) }) {
            throw FieldError(unknown, "unknown field (known: \(Self.knownFields.sorted().joined(separator: ", ")))")
        }
        let r = FieldReader(object: object)
        original = value
        testID = try r.string(.test_id) ?? generatedID()
        guard (1...64).contains(testID.count),
              testID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }), testID.first != "." else {
            throw FieldError(.test_id, "must be 1-64 characters of A-Z a-z 0-9 - _ . (not starting with .)")
        }
        if let given = try r.string(.name) {
            if let problem = HistoryRun.problem(withName: given) { throw FieldError(.name, problem) }
            name = given
        }
        for only in [TestConfigField.start_after_s, .think_ms] where object[only] != nil {
            throw FieldError(only, "only applies inside a scenario (scenarios.NAME.\(only.rawValue))")
        }
        if let scenarios = object[.scenarios] {
            let read = try Self.readScenarios(scenarios, testWide: object)
            self.scenarios = read.scenarios
            load = read.scenarios[0].load
            compiled = read.compiled
            drivers = read.drivers
            thresholds = read.thresholds
            search = read.search
            searchScenario = read.searchScenario
            return
        }
        let part = try Self.readLoad(r, object: object, search: true)
        load = part.load
        compiled = part.compiled
        search = part.search
        driverSelector = part.driverSelector
        thresholds = part.thresholds
        switch object[.source_addrs] {
        case nil, .null?: break
        case let value?: load.sourceAddresses = try Self.readSourceAddresses(value)
        }
        drivers = try Self.readDrivers(r)
        scenarios = [Scenario(load: load)]
    }

    /// `drivers`: how many to use.
    static func readDrivers(_ r: FieldReader) throws(FieldError) -> Int? {
        let drivers = try r.integer(.drivers)
        if let drivers, !(1...10_000).contains(drivers) { throw FieldError(.drivers, "must be in 1...10000, got \(drivers)") }
        return drivers
    }

    /// `source_addrs`: a range "A-B" or a list of addresses.
    static func readSourceAddresses(_ value: JSONValue) throws(FieldError) -> [String] {
        func checked(_ text: String) throws(FieldError) -> [String] {
            do { return try SourceAddresses.parse(text) } catch { throw FieldError(.source_addrs, error.reason(naming: Self.field)) }
        }
        switch value {
        case .string(let text): return try checked(text)
        case .array(let items):
            var list: [String] = []
            for item in items {
                guard case .string(let s) = item else { throw FieldError(.source_addrs, "entries must be strings (IP addresses)") }
                list.append(s)
            }
            return try checked(list.joined(separator: ","))
        default: throw FieldError(.source_addrs, "must be a range \"A-B\" or a list of addresses, not \(value.kind)")
        }
    }

    /// What one load (a test without scenarios, or one scenario) is made of.
    struct LoadPart {
        var load: LoadSpec
        var compiled: [CompiledRequest]
        var search: CapacitySearch?
        var driverSelector: [String: String] = [:]
        var thresholds: [Threshold]
    }

    /// Reads one load's fields from `object` (errors name them at the top level: a scenario's
    /// caller puts its path in front).
    static func readLoad(_ r: FieldReader, object: [String: JSONValue], search searchAllowed: Bool, seed: UInt64? = nil) throws(FieldError) -> LoadPart {
        var load: LoadSpec
        var search: CapacitySearch?
        func checked<T>(_ body: () throws(ConfigError) -> T) throws(FieldError) -> T {
            do { return try body() } catch { throw FieldError(Self.field(error), error.reason(naming: Self.field)) }
        }
        switch (try r.string(.target), object[.requests]) {
        case (.some, .some): throw FieldError(.requests, "give target or requests, not both")
        case (nil, nil): throw FieldError(.target, "is required (an http or https URL), or give requests (a list)")
        case (.some(let targetText), nil):
            load = LoadSpec(target: try checked { () throws(ConfigError) in try LoadSpec.target(targetText) })
            load.method = (try r.string(.method) ?? "GET").uppercased()
            var headers: [(String, String)] = []
            for (name, value) in (try r.object(.headers) ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard case .string(let s) = value else { throw FieldError(.headers, "value of '\(name)' must be a string") }
                headers.append((name, s))
            }
            load.headers = headers
            load.body = (try r.string(.body)).map { Array($0.utf8) } ?? []
        case (nil, .some(let list)):
            for single in [TestConfigField.method, .headers, .body] where object[single] != nil {
                throw FieldError(single, "with requests, give \(single) in each request")
            }
            let requests = try RequestList.parse(list, field: "requests")
            load = try checked { () throws(ConfigError) in try LoadSpec(requests: requests) }
        }
        try readWorkload(r, into: &load)
        var choices = LoadChoices()
        switch try r.string(.test_type)?.uppercased() {
        case nil, "AVALANCHE"?: choices.mode = .avalanche
        case "TSUNAMI"?, "SEARCH"?: choices.mode = .tsunami
        case let other?: throw FieldError(.test_type, "must be AVALANCHE, TSUNAMI or SEARCH, got '\(other)'")
        }
        if try r.string(.test_type)?.uppercased() == "SEARCH" {
            guard searchAllowed else { throw FieldError(.test_type, "a scenario is AVALANCHE or TSUNAMI (a search is a test of its own)") }
            search = try readSearch(r, object: object)
            let (slo, order) = (search!.slo, load.order)
            do { try Threshold.checkSessions(slo, order: order) } catch { throw FieldError(.slo, error.reason) }
            // Each step is a tsunami part of step_s seconds at the step's rate.
            choices.search = (search!.stepS, search!.firstRate)
        } else if let stray = [TestConfigField.slo, .start_rate, .max_rate, .step_s].first(where: { object[$0] != nil }) {
            throw FieldError(stray, "only applies to test_type SEARCH")
        }
        choices.connections = try r.integer(.connections)
        choices.requests = try r.integer(.message_count_per_driver)
        choices.sessions = try r.integer(.sessions)
        choices.durationS = try r.number(.duration_s)
        let stages = try readStages(r)
        choices.stages = stages?.stages
        choices.start = stages == nil ? (object[.start] != nil ? 0 : nil) : stages!.start
        // The original system sends test_message_delay 0 with every test: 0 means "not paced".
        choices.delayMs = try r.number(.test_message_delay).flatMap { $0 == 0 ? nil : $0 }
        choices.rate = try r.number(.rate)
        switch object[.session_rate] {
        case nil, .null?, .bool(false)?: break
        case .number(let rate)?: choices.sessionRate = .perSecond(rate)
        case .bool(true)?: choices.sessionRate = .fromRates
        case let other?: throw FieldError(.session_rate, "must be sessions per second (a number), or true with stages or a search, not \(other.kind)")
        }
        var applied = load
        try checked { () throws(ConfigError) in try applied.apply(choices) }
        load = applied
        load.timeoutMs = try r.integer(.timeout_ms) ?? LoadSpec.defaultTimeoutMs
        // Steering: room to raise an avalanche's users while it runs (resting connections cost no socket).
        load.maxConnections = try r.integer(.max_connections)
        if load.maxConnections == nil, load.mode == .avalanche, load.stages == nil {
            load.maxConnections = Swift.min(LoadSpec.defaultSteeringHeadroom * load.connections, LoadSpec.connectionsRange.upperBound)
        }
        switch object[.pause_extends] {
        case nil, .null?: break
        case .bool(let b)?: load.pauseExtends = b
        case let other?: throw FieldError(.pause_extends, "must be true or false, not \(other.kind)")
        }
        // One seed for the whole test, so the report can give it and a rerun can repeat it.
        if load.seed == nil { load.seed = seed ?? UInt64.random(in: 0...(1 << 53)) }
        let spec = load
        let compiled = try checked { () throws(ConfigError) in try spec.validate() }
        var driverSelector: [String: String] = [:]
        for (key, value) in (try r.object(.driver_selector) ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard case .string(let s) = value else { throw FieldError(.driver_selector, "value of '\(key)' must be a string") }
            driverSelector[key] = s
        }
        let thresholds = try readThresholds(r)
        try checked { () throws(ConfigError) in try Threshold.check(thresholds, for: spec) }
        return LoadPart(load: load, compiled: compiled, search: search, driverSelector: driverSelector, thresholds: thresholds)
    }

    static func readThresholds(_ r: FieldReader) throws(FieldError) -> [Threshold] {
        var thresholds: [Threshold] = []
        for (name, value) in (try r.object(.thresholds) ?? [:]).sorted(by: { $0.key < $1.key }) {
            thresholds.append(try Self.readThreshold(name, value))
        }
        return thresholds
    }


    /// A test from an already validated spec (`stampede run`): no JSON round trip. `original` is
    /// the body that describes it, for GET /tests/{id} and the state file.
    /// - Throws: `FieldError` when the spec does not validate (it always should, from the CLI).
    public init(testID: String, name: String? = nil, load: LoadSpec, drivers: Int?, thresholds: [Threshold]) throws(FieldError) {
        do { compiled = try load.validate() } catch { throw FieldError(Self.field(error), error.reason(naming: Self.field)) }
        if let name, let problem = HistoryRun.problem(withName: name) { throw FieldError(.name, problem) }
        self.testID = testID
        self.name = name
        var load = load
        if load.seed == nil { load.seed = UInt64.random(in: 0...(1 << 53)) }
        // `stampede run`: room to raise an avalanche's users from its keys, as a posted TestConfig has.
        if load.maxConnections == nil, load.mode == .avalanche, load.stages == nil {
            load.maxConnections = Swift.min(LoadSpec.defaultSteeringHeadroom * load.connections, LoadSpec.connectionsRange.upperBound)
        }
        self.load = load
        self.drivers = drivers
        self.thresholds = thresholds
        scenarios = [Scenario(load: load)]
        original = Self.json(testID: testID, name: name, load: load, drivers: drivers, thresholds: thresholds)
    }

    /// The TestConfig body that describes `load` (`--dry-run` prints it).
    public static func json(testID: String, name: String? = nil, load: LoadSpec, drivers: Int?, thresholds: [Threshold]) -> JSONValue {
        var o: [String: JSONValue] = [:]
        o[.test_id] = .string(testID)
        if let name { o[.name] = .string(name) }
        o[.test_type] = .string(load.mode.rawValue.uppercased())
        o[.connections] = .number(Double(load.connections))
        o[.timeout_ms] = .number(Double(load.timeoutMs))
        if load.listForm {
            o[.requests] = RequestList.json(load.requests)
        } else {
            o[.target] = .string(load.target.description)
            o[.method] = .string(load.method)
            if !load.headers.isEmpty {
                o[.headers] = .object(Dictionary(load.headers.map { ($0.0, JSONValue.string($0.1)) }, uniquingKeysWith: { _, last in last }))
            }
            if !load.body.isEmpty { o[.body] = .string(String(decoding: load.body, as: UTF8.self)) }
        }
        if load.order != .random { o[.order] = .string(load.order.rawValue) }
        if load.cookies != .session { o[.cookies] = .string(load.cookies.rawValue) }
        if load.captureBytes != LoadSpec.defaultCaptureBytes { o[.capture_bytes] = .number(Double(load.captureBytes)) }
        if load.followRedirects != 0 { o[.follow_redirects] = .number(Double(load.followRedirects)) }
        if load.allocatedConnections > load.connections { o[.max_connections] = .number(Double(load.allocatedConnections)) }
        if load.pauseExtends { o[.pause_extends] = .bool(true) }
        if let seed = load.seed { o[.seed] = .number(Double(seed)) }
        if let data = load.data { o[.data] = .object(["csv": .string(data.text)]) }
        if !load.sourceAddresses.isEmpty { o[.source_addrs] = .array(load.sourceAddresses.map { .string($0) }) }
        switch load.stop {
        case .requests(let n): o[.message_count_per_driver] = .number(Double(n))
        case .sessions(let n): o[.sessions] = .number(Double(n))
        case .duration(let s): o[.duration_s] = .number(s)
        case .stages(let profile):
            o[.stages] = .array(profile.stages.map { .object(["duration_s": .number($0.duration_s), "target": .number($0.target)]) })
            if profile.start != 0 { o[.start] = .number(profile.start) }
            if load.mode == .avalanche { o[.connections] = nil }
        }
        switch load.pacing {
        case .delayMs(let d): o[.test_message_delay] = .number(d)
        case .rate(let r): o[load.pacesSessions ? .session_rate : .rate] = .number(r)
        case nil: break
        }
        if load.pacesSessions && load.stages != nil { o[.session_rate] = .bool(true) }
        if let drivers { o[.drivers] = .number(Double(drivers)) }
        if !thresholds.isEmpty {
            o[.thresholds] = .object(Dictionary(thresholds.map { t in
                guard t.abortOnFail else { return (t.key, JSONValue.number(t.value)) }
                var limit: [String: JSONValue] = ["limit": .number(t.value), "abort_on_fail": .bool(true)]
                if t.delayAbortEvalS > 0 { limit["delay_abort_eval_s"] = .number(t.delayAbortEvalS) }
                return (t.key, JSONValue.object(limit))
            }, uniquingKeysWith: { _, b in b }))
        }
        return .object(o)
    }
}

/// Every TestConfig field (docs/rest-api.md): the one list that the unknown-field check, the
/// reads and `TestConfig.json` use, so a field cannot be read without being known or written
/// under another spelling.
public enum TestConfigField: String, CaseIterable, Sendable {
    case test_id, test_type, test_message_delay, message_count_per_driver, target, connections, duration_s, rate,
         method, headers, body, timeout_ms, drivers, thresholds, requests, order, seed, data, stages, start,
         slo, start_rate, max_rate, step_s, driver_selector, source_addrs, cookies, capture_bytes,
         follow_redirects, session_rate, scenarios, start_after_s, think_ms, sessions, name, search_scenario, max_connections,
         pause_extends

    /// With `scenarios`, the fields that stay on the test.
    public static let testWide: Set<TestConfigField> = [.test_id, .name, .drivers, .seed, .source_addrs, .thresholds, .scenarios,
                                                        .search_scenario, .slo, .start_rate, .max_rate, .step_s]
    /// The fields a scenario takes.
    public static let scenarioFields: [TestConfigField] = [
        .target, .method, .headers, .body, .requests, .order, .test_type, .connections, .rate, .test_message_delay, .session_rate,
        .stages, .start, .duration_s, .message_count_per_driver, .think_ms, .data, .cookies, .follow_redirects, .capture_bytes,
        .timeout_ms, .thresholds, .driver_selector, .start_after_s, .sessions, .max_connections, .pause_extends]
}

extension FieldReader {
    func string(_ field: TestConfigField) throws(FieldError) -> String? { try string(field.rawValue) }
    func number(_ field: TestConfigField) throws(FieldError) -> Double? { try number(field.rawValue) }
    func integer(_ field: TestConfigField) throws(FieldError) -> Int? { try integer(field.rawValue) }
    func object(_ field: TestConfigField) throws(FieldError) -> [String: JSONValue]? { try object(field.rawValue) }
    func array(_ field: TestConfigField) throws(FieldError) -> [JSONValue]? { try array(field.rawValue) }
}

extension FieldError {
    init(_ field: TestConfigField, _ reason: String) { self.init(field.rawValue, reason) }
}

extension Dictionary where Key == String, Value == JSONValue {
    subscript(field: TestConfigField) -> JSONValue? {
        get { self[field.rawValue] }
        set { self[field.rawValue] = newValue }
    }
}
