import StampedeModel

/// `trigger` topic: change a running test's load (steering) from an instant on. The orchestrator
/// sends one per change to every driver of the test, each driver's share given (split as at the
/// start) and its instant on its own clock.
public struct ChangeMessage: Codable, Sendable, Equatable {
    public private(set) var type = BusMessageKind.change
    public var v = busMessageVersion
    public var testID: String
    public var driverIDs: [String]
    /// The change's number in its test (1, 2, ...): a driver applies each once, and names it when late.
    public var seq: Int
    /// The scenario it changes (`default` without named scenarios).
    public var scenario: String
    /// `rate`, `connections`, `session_rate`, `pause` or `resume`.
    public var field: String
    /// Each driver's new value (its share of the total); none for `pause` and `resume`.
    public var valueByDriver: [String: Double]?
    public var applyAtMs: Int64
    /// Each driver's instant on its own clock (`apply_at_ms` plus its estimated offset).
    public var applyAtMsByDriver: [String: Int64]?

    public init(testID: String, driverIDs: [String], seq: Int, scenario: String, field: String, valueByDriver: [String: Double]?, applyAtMs: Int64) {
        self.testID = testID; self.driverIDs = driverIDs; self.seq = seq; self.scenario = scenario; self.field = field
        self.valueByDriver = valueByDriver; self.applyAtMs = applyAtMs
    }

    public static let fields: Set<String> = ["rate", "connections", "session_rate", "pause", "resume"]

    /// When `driver` is to apply it, on its own clock.
    public func applyAtMs(for driver: String) -> Int64 { applyAtMsByDriver?[driver] ?? applyAtMs }

    /// The change for `driver`'s run, `scenario` its index there; nil when the message has no
    /// value for it (or a field this build does not know).
    public func change(for driver: String, scenario index: Int) -> LoadChange? {
        let value = valueByDriver?[driver]
        switch (field, value) {
        case ("rate", let v?): return LoadChange(scenario: index, kind: .rate(v))
        case ("session_rate", let v?): return LoadChange(scenario: index, kind: .sessionRate(v))
        case ("connections", let v?): return LoadChange(scenario: index, kind: .connections(Int(v)))
        case ("pause", _): return LoadChange(scenario: index, kind: .pause)
        case ("resume", _): return LoadChange(scenario: index, kind: .resume)
        default: return nil
        }
    }

    private enum CodingKeys: String, CodingKey {
        case type, v, testID = "test_id", driverIDs = "driver_ids", seq, scenario, field, valueByDriver = "value_by_driver",
             applyAtMs = "apply_at_ms", applyAtMsByDriver = "apply_at_ms_by_driver"
    }
}

