import StampedeModel

/// `scenarios`: several populations in one test, each read as a test's load is, with its errors
/// named by path (`scenarios.buy.requests[2].url`).
extension TestConfig {
    struct ReadScenarios {
        var scenarios: [Scenario]
        var compiled: [CompiledRequest]
        var drivers: Int?
        var thresholds: [Threshold]
        var search: CapacitySearch?
        var searchScenario: String?
    }

    static func readScenarios(_ value: JSONValue, testWide object: [String: JSONValue]) throws(FieldError) -> ReadScenarios {
        let wide = TestConfigField.testWide.map(\.rawValue).sorted().joined(separator: ", ")
        if let stray = object.keys.sorted().first(where: { key in !TestConfigField.testWide.contains { $0.rawValue == key } }) {
            let reason = stray == TestConfigField.target.rawValue || stray == TestConfigField.requests.rawValue
                ? "give the requests in each scenario, not beside scenarios" : "give it in each scenario that needs it"
            throw FieldError(stray, "\(reason) (with scenarios, the test takes only \(wide))")
        }
        guard case .object(let named) = value else {
            throw FieldError(.scenarios, "must be an object of named scenarios ({\"browse\": {...}, \"buy\": {...}}), not \(value.kind)")
        }
        guard !named.isEmpty else { throw FieldError(.scenarios, "needs at least one scenario") }
        let r = FieldReader(object: object)
        var seed: UInt64
        if let given = try r.integer(.seed) {
            guard given >= 0 else { throw FieldError(.seed, "must be a non-negative integer, got \(given)") }
            seed = UInt64(given)
        } else {
            seed = UInt64.random(in: 0...(1 << 53))
        }
        let sources = try object[.source_addrs].map { value throws(FieldError) in try readSourceAddresses(value) } ?? []
        let searched = try r.string(.search_scenario)
        if searched == nil, let stray = [TestConfigField.slo, .start_rate, .max_rate, .step_s].first(where: { object[$0] != nil }) {
            throw FieldError(stray, "with scenarios, a search names the scenario it searches: give search_scenario")
        }
        if let searched, named[searched] == nil {
            throw FieldError(.search_scenario, "no scenario is named '\(searched)' (scenarios: \(named.keys.sorted().joined(separator: ", ")))")
        }
        var search: CapacitySearch?
        var scenarios: [Scenario] = []
        var firstCompiled: [CompiledRequest] = []
        for (k, (name, body)) in named.sorted(by: { $0.key < $1.key }).enumerated() {
            let path = "scenarios.\(name)"
            if let problem = Scenario.problem(withName: name) { throw FieldError(path, problem) }
            guard case .object(var fields) = body else { throw FieldError(path, "must be an object (a scenario's load), not \(body.kind)") }
            let known = TestConfigField.scenarioFields.map(\.rawValue)
            if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
                throw FieldError("\(path).\(unknown)", "unknown field in a scenario (known: \(known.sorted().joined(separator: ", ")))")
            }
            if let think = fields[.think_ms] {
                // A default for the scenario's requests: each that sets none takes it.
                guard case .array(let list)? = fields[.requests] else {
                    throw FieldError("\(path).think_ms", "applies to a list of requests (give requests, each may set its own think_ms)")
                }
                fields[.requests] = .array(list.map { entry in
                    guard case .object(var o) = entry, o["think_ms"] == nil else { return entry }
                    o["think_ms"] = think
                    return .object(o)
                })
                fields[.think_ms] = nil
            }
            if let searched {
                // A search's steps set how long every scenario runs and the searched one's rate.
                let set: [TestConfigField] = [.duration_s, .message_count_per_driver, .sessions, .stages, .start, .start_after_s]
                    + (name == searched ? [.rate, .test_message_delay] : [])
                for setting in set where fields[setting] != nil {
                    throw FieldError("\(path).\(setting.rawValue)", "a search's steps (of step_s seconds) set \(name == searched ? "this scenario's rate and how long it runs" : "how long every scenario runs"): leave it out")
                }
                if name == searched {
                    if let type = fields[.test_type], type != .string("TSUNAMI"), type != .string("tsunami") {
                        throw FieldError("\(path).test_type", "the searched scenario runs tsunami steps: leave test_type out or give TSUNAMI")
                    }
                    fields[.test_type] = .string("SEARCH")
                    for setting in [TestConfigField.slo, .start_rate, .max_rate, .step_s] { fields[setting] = object[setting] }
                } else {
                    fields[.duration_s] = .number(try r.number(.step_s) ?? CapacitySearch.defaultStepS)
                }
            }
            let s = FieldReader(object: fields, path: path)
            let startAfter = try s.number(TestConfigField.start_after_s.rawValue) ?? 0
            if let problem = Scenario.problem(withStartAfter: startAfter) { throw FieldError("\(path).start_after_s", problem) }
            // Each scenario its own stream of the test's seed (a rerun with the seed repeats all).
            let own = seed ^ (UInt64(k) &* 0x9E37_79B9_7F4A_7C15 & ((1 << 53) - 1))
            var part: LoadPart
            do { part = try readLoad(FieldReader(object: fields), object: fields, search: name == searched, seed: own) } catch {
                // The search's own fields are the test's: named at the top.
                let own = ["slo", "start_rate", "max_rate", "step_s"].contains { error.field == $0 || error.field.hasPrefix($0 + ".") }
                throw FieldError(own ? error.field : "\(path).\(error.field)", error.reason, status: error.status)
            }
            if name == searched { search = part.search }
            part.load.sourceAddresses = sources
            part.load.scenarioIndex = k
            part.load.scenarioCount = named.count
            scenarios.append(Scenario(name: name, load: part.load, startAfterS: startAfter, thresholds: part.thresholds,
                                      driverSelector: part.driverSelector))
            if k == 0 { firstCompiled = part.compiled }
        }
        // Test-wide thresholds judge the whole test: a scoped one names a request of some scenario.
        let thresholds = try readThresholds(r)
        let names = scenarios.flatMap { $0.load.requests.map(\.displayName) }
        do { try Threshold.checkScopes(thresholds, names: names) } catch { throw FieldError(.thresholds, error.reason) }
        if !scenarios.allSatisfy({ $0.load.order == .sequence }), let t = thresholds.first(where: { $0.name.isSession }) {
            throw FieldError(.thresholds, "\(t.name.rawValue) judges sessions, and a scenario without order: sequence has none (give it in the scenarios that have sessions)")
        }
        return ReadScenarios(scenarios: scenarios, compiled: firstCompiled, drivers: try readDrivers(r), thresholds: thresholds,
                             search: search, searchScenario: searched)
    }
}
