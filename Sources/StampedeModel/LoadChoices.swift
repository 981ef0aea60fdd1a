import Foundation

/// How a test's load runs over time, as a user states it, setting by setting: how it stops, how
/// it is paced, how many connections. Each adapter (the CLI's flags, a TestConfig, a bus
/// `test_config`) fills it from its own names; `LoadSpec.apply(_:)` is the one place the rules
/// between these settings live. Its errors mention other settings as `{setting}` placeholders,
/// which each adapter renders in its own vocabulary (`ConfigError.reason(naming:)`).
public struct LoadChoices: Sendable {
    public enum SessionRate: Sendable, Equatable {
        /// Sessions starting per second.
        case perSecond(Double)
        /// The stages' (or a search's) rates count sessions instead of requests.
        case fromRates
    }

    public var mode: LoadMode = .avalanche
    /// Given by the user (nil: `defaultConnections`, or the highest target of avalanche stages).
    public var connections: Int?
    public var defaultConnections = LoadSpec.defaultConnections
    public var requests: Int?
    /// Sessions in all (`order: sequence`): the run stops when exactly this many have run.
    public var sessions: Int?
    public var durationS: Double?
    public var stages: [Stage]?
    public var start: Double?
    public var delayMs: Double?
    public var rate: Double?
    public var sessionRate: SessionRate?
    /// Without a stop condition, run this many seconds (nil: one is required).
    public var defaultDurationS: Double?
    /// A capacity search sets the stop and the rate itself: steps of `stepS` seconds from `firstRate`.
    public var search: (stepS: Double, firstRate: Double)?
    /// A search that sets the rate later (the CLI's `search`): a session rate may be a switch.
    public var rateComesLater = false

    public init() {}
}

extension LoadSpec {
    /// Combines the stated settings into this spec: one stop condition (or the default), stages
    /// (avalanche stages set the connections), a delay or a rate, a session rate, a search's
    /// steps. Ranges are `validate()`'s.
    /// - Throws: `ConfigError` naming the setting, other settings as `{placeholders}`.
    public mutating func apply(_ c: LoadChoices) throws(ConfigError) {
        mode = c.mode
        connections = c.connections ?? c.defaultConnections
        let given = [(LoadSetting.requests, c.requests != nil), (.duration, c.durationS != nil), (.stages, c.stages != nil),
                     (.sessions, c.sessions != nil)]
            .filter(\.1).map(\.0)
        if let search = c.search {
            let strays = given + (c.delayMs != nil ? [.delay] : []) + (c.rate != nil ? [.rate] : [])
            if let stray = strays.first {
                throw ConfigError(stray, "a search sets the load itself (steps of {step_s} seconds from {start_rate}): leave {\(stray.rawValue)} out")
            }
            stop = .duration(search.stepS)
            pacing = .rate(search.firstRate)
        } else if given.count > 1 {
            if given.contains(.sessions) {
                let other = given.first { $0 != .sessions }!
                throw ConfigError(.sessions, "{sessions} and {\(other.rawValue)} are exclusive: the run ends when the sessions have run")
            }
            guard given.contains(.stages) else { throw ConfigError(.duration, "{requests} and {duration} are exclusive: give one") }
            let other = given[0]
            let why = other == .duration ? "the stages' durations add up to the test's" : "stages end when their time is up"
            throw ConfigError(.stages, "{stages} and {\(other.rawValue)} are exclusive: \(why)")
        } else if let n = c.requests {
            stop = .requests(n)
        } else if let n = c.sessions {
            stop = .sessions(n)
        } else if let s = c.durationS {
            stop = .duration(s)
        } else if c.stages == nil {
            guard let s = c.defaultDurationS else { throw ConfigError(.requests, "give one of {requests}, {duration} and {stages}") }
            stop = .duration(s)
        }
        if let stages = c.stages {
            let profile = StageProfile(start: c.start ?? 0, stages: stages)
            stop = .stages(profile)
            if mode == .avalanche {
                // Avalanche stages are connection counts: the highest one is the connections.
                if c.connections != nil { throw ConfigError(.connections, "avalanche stages set the connections (their highest target): leave it out") }
                connections = Swift.max(1, Int(profile.peak.rounded(.up)))
            }
        } else if c.start != nil {
            throw ConfigError(.start, "only applies with {stages}")
        }
        if c.search == nil {
            switch (c.delayMs, c.rate) {
            case (.some, .some): throw ConfigError(.rate, "{delay} and {rate} are exclusive: give one")
            case (.some(let d), nil): pacing = .delayMs(d)
            case (nil, .some(let r)): pacing = .rate(r)
            case (nil, nil): pacing = nil
            }
        }
        switch c.sessionRate {
        case nil: pacesSessions = false
        case .fromRates?:
            guard c.stages != nil || c.search != nil || c.rateComesLater else {
                throw ConfigError(.sessionRate, "as a switch applies with {stages} or a search (their rates become sessions per second); otherwise give sessions per second")
            }
            pacesSessions = true
        case .perSecond(let r)?:
            let other: LoadSetting? = c.rate != nil ? .rate : c.delayMs != nil ? .delay : c.stages != nil ? .stages : nil
            if let other {
                throw ConfigError(.sessionRate, "give {session_rate} or {\(other.rawValue)}, not both (with {stages} or a search, {session_rate} as a switch makes their rates sessions per second)")
            }
            pacing = .rate(r)
            pacesSessions = true
        }
    }
}

extension ConfigError {
    /// The reason with the settings it mentions (`{duration}`) named as the adapter names them.
    public func reason(naming name: (LoadSetting) -> String) -> String {
        guard reason.contains("{") else { return reason }
        var text = reason
        for setting in LoadSetting.allCases { text = text.replacingOccurrences(of: "{\(setting.rawValue)}", with: name(setting)) }
        return text
    }
}
