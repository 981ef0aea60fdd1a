/// One population of a test (k6's scenario, Gatling's population, Locust's user class): a name,
/// its own load (requests, model, connections, rate, duration or stages), when it begins after
/// the test's start, its own thresholds and the drivers it runs on. A test without scenarios is
/// one, named `default`.
public struct Scenario: Sendable {
    public static let defaultName = "default"
    public static let maxStartAfterS = LoadSpec.maxDurationS

    public var name: String
    public var load: LoadSpec
    /// Seconds after the test's start that its schedule begins (k6's `startTime`); its
    /// connections open with everyone's before the start.
    public var startAfterS: Double
    /// Judged on this scenario's figures only.
    public var thresholds: [Threshold]
    /// Only drivers with every one of these labels run it (empty: every driver of the test).
    public var driverSelector: [String: String]

    public init(name: String = Scenario.defaultName, load: LoadSpec, startAfterS: Double = 0, thresholds: [Threshold] = [],
                driverSelector: [String: String] = [:]) {
        self.name = name; self.load = load; self.startAfterS = startAfterS
        self.load.scenarioName = name
        self.thresholds = thresholds; self.driverSelector = driverSelector
    }

    /// Why `name` cannot name a scenario (nil: it can): 1-32 of `A-Z a-z 0-9 _ -`.
    public static func problem(withName name: String) -> String? {
        guard (1...32).contains(name.utf8.count),
              name.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F || $0 == 0x2D })
        else { return "a scenario's name is 1-32 characters of A-Z a-z 0-9 _ -, got '\(name)'" }
        return nil
    }

    /// Why `seconds` cannot be a `start_after_s` (nil: it can).
    public static func problem(withStartAfter seconds: Double) -> String? {
        guard seconds.isFinite, seconds >= 0, seconds < maxStartAfterS else {
            return "must be in 0...86400 seconds (when the scenario begins after the test's start), got \(seconds)"
        }
        return nil
    }

    /// Seconds after the test's start that its sending ends (nil: it ends on a request count).
    public var endS: Double? {
        switch load.stop {
        case .duration(let s): startAfterS + s
        case .stages(let profile): startAfterS + profile.duration
        case .requests, .sessions: nil
        }
    }

    /// Checks the scenario's own load and thresholds; returns the compiled request list.
    @discardableResult
    public func validate() throws(ConfigError) -> [CompiledRequest] {
        if let problem = Self.problem(withName: name) { throw ConfigError(.scenarios, problem) }
        if let problem = Self.problem(withStartAfter: startAfterS) { throw ConfigError(.startAfter, problem) }
        let compiled = try load.validate()
        try Threshold.check(thresholds, for: load)
        return compiled
    }
}
