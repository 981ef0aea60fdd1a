import StampedeModel

/// What a bus message may carry, checked as it is decoded so that nothing out of range reaches
/// the code that adds and schedules with it: a forged or corrupt message is skipped (and logged
/// with its topic, offset and field) instead of trapping on overflow or allocating without bound.
/// The bounds are far above anything a driver sends (2^36 requests in one second of one driver).
public enum MessageLimits {
    /// Any count in a metrics message.
    public static let maxCount = 1 << 36
    /// `t`, the second of a test an interval belongs to (48 days), and `unsent_per_second`'s length.
    public static let maxSecond = 1 << 22
    /// `part`: parts of a test handed over after failures.
    public static let maxPart = 1 << 20
    /// `by_name` entries in one message (a request list has at most this many names).
    public static let maxNames = 10_000
    /// `scenarios` entries in one message (a test has at most this many).
    public static let maxScenarios = 1_000
    /// A driver's `threads`.
    public static let maxThreads = 4096
}

/// Why a decoded message is refused: the field (as on the wire) and what was wrong with it.
public struct MessageRangeError: Error, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public var description: String { "'\(field)' \(reason)" }
}

private func checkCount(_ field: String, _ value: Int) throws(MessageRangeError) {
    guard (0...MessageLimits.maxCount).contains(value) else {
        throw MessageRangeError(field: field, reason: "is \(value), outside 0...\(MessageLimits.maxCount)")
    }
}

private func checkFinite(_ field: String, _ value: Double?, max: Double = 1e12) throws(MessageRangeError) {
    guard let value else { return }
    guard value.isFinite, value >= 0, value <= max else {
        throw MessageRangeError(field: field, reason: "is \(value), outside 0...\(max)")
    }
}

private func checkPart(_ value: Int?) throws(MessageRangeError) {
    guard let value else { return }
    guard (1...MessageLimits.maxPart).contains(value) else {
        throw MessageRangeError(field: "part", reason: "is \(value), outside 1...\(MessageLimits.maxPart)")
    }
}

/// Every count of `c` in range; only when one is not are the fields named to say which (naming
/// them all was over a third of decoding a message with 20 names in 3 scenarios).
private func checkCounters(_ c: LoadCounters, prefix: @autoclosure () -> String = "") throws(MessageRangeError) {
    let range = 0...MessageLimits.maxCount
    guard !c.allCounts(in: range) else { return }
    let prefix = prefix()
    for (field, value) in c.namedCounts { try checkCount(prefix + field, value) }
    // A negative count of a status code: `namedCounts` lists the codes that were seen (above 0).
    throw MessageRangeError(field: prefix + "status_codes", reason: "has a count outside 0...\(MessageLimits.maxCount)")
}

private func checkNames(_ byName: [String: NameShare]?) throws(MessageRangeError) {
    guard let byName else { return }
    guard byName.count <= MessageLimits.maxNames else {
        throw MessageRangeError(field: "by_name", reason: "has \(byName.count) names, more than \(MessageLimits.maxNames)")
    }
    for (name, share) in byName { try checkCounters(share.counters, prefix: "by_name.\(name).") }
}

/// Each scenario's share, checked as the message's own fields are (`scenarios.NAME.requests`).
private func checkScenarios(_ scenarios: [String: ScenarioShare]?) throws(MessageRangeError) {
    guard let scenarios else { return }
    guard scenarios.count <= MessageLimits.maxScenarios else {
        throw MessageRangeError(field: "scenarios", reason: "has \(scenarios.count) scenarios, more than \(MessageLimits.maxScenarios)")
    }
    for (name, share) in scenarios {
        let prefix = "scenarios.\(name)."
        try checkCounters(share.counters, prefix: prefix)
        if let byName = share.byName {
            guard byName.count <= MessageLimits.maxNames else {
                throw MessageRangeError(field: prefix + "by_name", reason: "has \(byName.count) names, more than \(MessageLimits.maxNames)")
            }
            for (n, s) in byName { try checkCounters(s.counters, prefix: prefix + "by_name.\(n).") }
        }
        try checkFinite(prefix + "target_rate", share.targetRate)
        try checkFinite(prefix + "duration_s", share.durationS, max: Double(MessageLimits.maxSecond))
        if let perSecond = share.unsentPerSecond {
            guard perSecond.count <= MessageLimits.maxSecond else {
                throw MessageRangeError(field: prefix + "unsent_per_second", reason: "has \(perSecond.count) seconds, more than \(MessageLimits.maxSecond)")
            }
            for n in perSecond { try checkCount(prefix + "unsent_per_second", n) }
        }
    }
}

extension IntervalMessage {
    /// - Throws: `MessageRangeError` naming the first field out of range.
    public func validate() throws(MessageRangeError) {
        guard (1...MessageLimits.maxSecond).contains(t) else {
            throw MessageRangeError(field: "t", reason: "is \(t), outside 1...\(MessageLimits.maxSecond)")
        }
        try checkPart(part)
        try checkCounters(counters)
        try checkNames(byName)
        try checkCount("connections", connections ?? 0)
        try checkFinite("target_rate", targetRate)
        try checkFinite("target_connections", targetConnections)
        try checkScenarios(scenarios)
    }
}

extension FinalMessage {
    /// - Throws: `MessageRangeError` naming the first field out of range.
    public func validate() throws(MessageRangeError) {
        try checkPart(part)
        try checkFinite("duration_s", durationS, max: Double(MessageLimits.maxSecond))
        try checkCounters(counters)
        try checkNames(byName)
        if let perSecond = unsentPerSecond {
            guard perSecond.count <= MessageLimits.maxSecond else {
                throw MessageRangeError(field: "unsent_per_second", reason: "has \(perSecond.count) seconds, more than \(MessageLimits.maxSecond)")
            }
            for n in perSecond { try checkCount("unsent_per_second", n) }
        }
        try checkCount("sockets", sockets ?? 0)
        try checkFinite("busiest", busiest, max: 1e6)
        try checkFinite("start_lag_ms", startLagMs.map(abs))
        try checkFinite("connect_phase_s", connectPhaseS, max: Double(MessageLimits.maxSecond))
        try checkCount("connect_phase_errors", connectPhaseErrors ?? 0)
        try checkFinite("connect_late_s", connectLateS.map(abs), max: Double(MessageLimits.maxSecond))
        try checkScenarios(scenarios)
        for late in lateChanges ?? [] {
            guard late.seq >= 1, late.late_ms.isFinite, late.late_ms >= 0 else {
                throw MessageRangeError(field: "late_changes", reason: "seq \(late.seq) late by \(late.late_ms) ms is out of range")
            }
        }
    }
}

extension BusMessage {
    /// The ranges of what the message carries (see `MessageLimits`).
    /// - Throws: `MessageRangeError` naming the first field out of range.
    public func validate() throws(MessageRangeError) {
        switch self {
        case .interval(let m): try m.validate()
        case .final(let m): try m.validate()
        case .register(let m):
            guard (1...MessageLimits.maxThreads).contains(m.threads) else {
                throw MessageRangeError(field: "threads", reason: "is \(m.threads), outside 1...\(MessageLimits.maxThreads)")
            }
        case .testConfig(let m): try checkPart(m.part)
        case .trigger(let m): try checkPart(m.part)
        case .change(let m):
            guard ChangeMessage.fields.contains(m.field) else {
                throw MessageRangeError(field: "field", reason: "'\(m.field)' is not one of \(ChangeMessage.fields.sorted().joined(separator: ", "))")
            }
            guard m.seq >= 1 else { throw MessageRangeError(field: "seq", reason: "is \(m.seq), not positive") }
            for (driver, value) in m.valueByDriver ?? [:] {
                guard value.isFinite, value >= 0, value <= 1e9 else {
                    throw MessageRangeError(field: "value_by_driver.\(driver)", reason: "is \(value), outside 0...1e9")
                }
            }
        case .heartbeat, .stop, .clockProbe: break
        }
    }
}
