import StampedeModel

/// How a test is split over its drivers: each driver's share, one scenario at a time.
extension TestConfig {
    /// One driver's share: connections and count per driver as given, the total rate split evenly
    /// (a tsunami's stages are total rates too).
    public func spec(driverCount: Int) -> TestSpec {
        Self.share(of: load, driverCount: driverCount)
    }

    /// One driver's share of `load` (a test's, or a scenario's) over `driverCount` drivers.
    public static func share(of load: LoadSpec, driverCount: Int) -> TestSpec {
        var share = load
        if case .rate(let r) = share.pacing { share.pacing = .rate(r / Double(driverCount)) }
        if load.mode == .tsunami, case .stages(let profile) = share.stop { share.stop = .stages(profile.scaled(1 / Double(driverCount))) }
        return TestSpec(share)
    }

    /// A test of several scenarios, for `drivers`: each scenario split over the drivers its
    /// `driver_selector` matches (`matches(driver, selector)`).
    /// - Throws: `ScenarioWithoutDrivers` naming the first scenario no driver matches.
    public func spec(drivers: [String], matches: (String, [String: String]) -> Bool) throws(ScenarioWithoutDrivers) -> TestSpec {
        guard hasScenarios else { return spec(driverCount: drivers.count) }
        var specs: [TestSpec] = []
        for scenario in scenarios {
            let mine = drivers.filter { matches($0, scenario.driverSelector) }
            guard !mine.isEmpty else { throw ScenarioWithoutDrivers(scenario: scenario.name, selector: scenario.driverSelector) }
            var spec = Self.share(of: scenario.load, driverCount: mine.count)
            spec.scenario = scenario.name
            spec.start_after_s = scenario.startAfterS > 0 ? scenario.startAfterS : nil
            spec.scenario_drivers = mine == drivers ? nil : mine
            specs.append(spec)
        }
        var first = specs.removeFirst()
        first.scenarios = specs.isEmpty ? nil : specs
        return first
    }

    /// Whether the test is made of named scenarios (not one `default`).
    public var hasScenarios: Bool { scenarios.count > 1 || scenarios.first?.name != Scenario.defaultName }
}

/// A scenario whose `driver_selector` no driver of the test matches.
public struct ScenarioWithoutDrivers: Error, Sendable {
    public let scenario: String
    public let selector: [String: String]
}
