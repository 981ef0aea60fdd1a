import StampedeModel
import StampedeWire

/// Steering a running test (`PATCH /tests/{id}`, `POST /tests/{id}/pause|resume`): each change
/// goes to every driver of its scenario with one instant to apply it (on each driver's clock, as
/// the start), each driver's share split as at the start; the run records it for the report.
extension TestBook {
    /// How far ahead of now a change applies: time for the message to reach every driver, so
    /// all of them switch at the same instant.
    static let changeLeadMs: Int64 = 300

    /// The measured clock offsets of `drivers`, those not measured left out: a start and a change
    /// are each given on every driver's own clock.
    func clockOffsets(of drivers: [String]) -> [String: Double] {
        var offsets: [String: Double] = [:]
        for d in drivers { if let offset = clockOffsetMs(d) { offsets[d] = offset } }
        return offsets
    }

    /// An instant (our wall clock, ms) on each driver's own clock; nil when none was measured.
    func onDriverClocks(_ atMs: Int64, _ offsets: [String: Double]) -> [String: Int64]? {
        offsets.isEmpty ? nil : offsets.mapValues { atMs + Int64($0.rounded()) }
    }

    /// `PATCH /tests/{id}`: `rate`, `connections`, `session_rate`, or `{"scenarios": {"NAME": {...}}}`.
    func change(id: String, body: [UInt8]) throws(TestBookError) -> [ChangeRecord] {
        let run = try steerable(id)
        guard let value = JSONValue.parse(body), case .object(let object) = value else {
            throw .invalid(FieldError("body", "must be a JSON object such as {\"rate\": 800}"))
        }
        var wanted: [(scenario: Scenario, path: String, field: String, value: Double)] = []
        let fields = ["rate", "connections", "session_rate"]
        if case .object(let byName)? = object["scenarios"] {
            if let stray = object.keys.sorted().first(where: { $0 != "scenarios" }) {
                throw .invalid(FieldError(stray, "give the change inside scenarios.NAME, not beside it"))
            }
            for (name, item) in byName.sorted(by: { $0.key < $1.key }) {
                guard let scenario = run.definition.scenarios.first(where: { $0.name == name }) else {
                    throw .invalid(FieldError("scenarios.\(name)", "no such scenario (this test has \(run.definition.scenarios.map(\.name).joined(separator: ", ")))"))
                }
                guard case .object(let change) = item else { throw .invalid(FieldError("scenarios.\(name)", "must be an object such as {\"rate\": 800}")) }
                wanted += try read(change, fields: fields, path: "scenarios.\(name).", scenario: scenario)
            }
        } else {
            if object["scenarios"] != nil { throw .invalid(FieldError("scenarios", "must be an object of scenario names")) }
            guard !run.definition.hasScenarios else {
                let name = run.definition.scenarios[0].name
                throw .invalid(FieldError(object.keys.sorted().first ?? "body", "this test has scenarios: give {\"scenarios\": {\"\(name)\": {...}}}"))
            }
            wanted = try read(object, fields: fields, path: "", scenario: run.definition.scenarios[0])
        }
        guard !wanted.isEmpty else { throw .invalid(FieldError("body", "give at least one of rate, connections, session_rate")) }
        for w in wanted { try check(run, w.scenario, path: w.path, field: w.field, value: w.value) }
        let applyAt = clock.wallMs() + Self.changeLeadMs
        var records: [ChangeRecord] = []
        for w in wanted {
            let from = run.currentLoad(w.scenario, w.field) ?? 0
            records.append(try send(run, scenario: w.scenario, field: w.field, from: .number(from), to: .number(w.value), applyAt: applyAt))
        }
        return records
    }

    /// `POST /tests/{id}/pause` (`paused`: true) and `/resume` (false): every scenario at once.
    func pause(id: String, paused: Bool) throws(TestBookError) -> [ChangeRecord] {
        let run = try steerable(id)
        guard run.steering.isPaused != paused else {
            throw .invalid(FieldError("test_id", "test \(id) is \(paused ? "already paused" : "not paused")", status: 409))
        }
        if let stages = run.definition.scenarios.first(where: { $0.load.stages != nil }) {
            throw .invalid(FieldError("test_id", "scenario \(stages.name) follows its stages: a test with stages cannot be paused", status: 409))
        }
        let applyAt = clock.wallMs() + Self.changeLeadMs
        var records: [ChangeRecord] = []
        for scenario in run.definition.scenarios {
            records.append(try send(run, scenario: scenario, field: paused ? "pause" : "resume", from: .flag(!paused), to: .flag(paused), applyAt: applyAt))
        }
        return records
    }

    private func steerable(_ id: String) throws(TestBookError) -> TestRun {
        guard let run = tests[id] else { throw .notFound(testID: id) }
        guard run.status == .running, run.stoppedAtMs == nil else {
            throw .notRunning(testID: id, status: run.stoppedAtMs == nil ? run.status.rawValue : "stopping")
        }
        if run.search != nil {
            throw .invalid(FieldError("test_id", "a capacity search sets its own rate at each step: it cannot be steered", status: 409))
        }
        return run
    }

    private func read(_ object: [String: JSONValue], fields: [String], path: String,
                      scenario: Scenario) throws(TestBookError) -> [(scenario: Scenario, path: String, field: String, value: Double)] {
        var out: [(Scenario, String, String, Double)] = []
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            guard fields.contains(key) else { throw .invalid(FieldError(path + key, "cannot be changed while a test runs (rate, connections, session_rate can)")) }
            guard case .number(let n) = value, n.isFinite else { throw .invalid(FieldError(path + key, "must be a number, not \(value.kind)")) }
            out.append((scenario, path, key, n))
        }
        return out
    }

    /// The field must be one the scenario's model has, and the value in its range.
    private func check(_ run: TestRun, _ scenario: Scenario, path: String, field: String, value: Double) throws(TestBookError) {
        let load = scenario.load
        let name = path + field
        if load.stages != nil { throw .invalid(FieldError(name, "scenario \(scenario.name) follows its stages: its load cannot be changed")) }
        switch field {
        case "rate":
            guard load.mode == .tsunami, !load.pacesSessions else {
                throw .invalid(FieldError(name, load.mode == .avalanche ? "an avalanche has no rate: change connections (its users)"
                                                                       : "this tsunami paces sessions: change session_rate"))
            }
            guard case .rate = load.pacing else { throw .invalid(FieldError(name, "this test is paced by test_message_delay: create it with rate to steer its rate")) }
            guard value > 0, value <= 1e9 else { throw .invalid(FieldError(name, "must be in (0, 1e9] requests per second, got \(value)")) }
        case "session_rate":
            guard load.mode == .tsunami, load.pacesSessions else { throw .invalid(FieldError(name, "only a tsunami with session_rate has one")) }
            guard value > 0, value <= 1e9 else { throw .invalid(FieldError(name, "must be in (0, 1e9] sessions per second, got \(value)")) }
        default:
            guard load.mode == .avalanche else { throw .invalid(FieldError(name, "a tsunami's load is its rate: change rate (or session_rate)")) }
            guard value == value.rounded(), value >= 1, Int(value) <= load.allocatedConnections else {
                throw .invalid(FieldError(name, "must be a whole number in 1...\(load.allocatedConnections) per driver (max_connections), got \(value)"))
            }
        }
    }

    /// Sends one change to the scenario's drivers (each its share), records it and announces it.
    private func send(_ run: TestRun, scenario: Scenario, field: String, from: ChangeRecord.Value, to: ChangeRecord.Value,
                      applyAt: Int64) throws(TestBookError) -> ChangeRecord {
        let drivers = run.assigned.filter { driverMatches($0, scenario.driverSelector) && !run.failedDrivers.contains($0) }
        let seq = run.steering.nextSeq
        var message = ChangeMessage(testID: run.id, driverIDs: drivers, seq: seq, scenario: scenario.name,
                                    field: field == "paused" ? (to == .flag(true) ? "pause" : "resume") : field, valueByDriver: nil, applyAtMs: applyAt)
        if let total = to.number {
            // Rates are totals split evenly, as at the start; connections are per driver, as in a TestConfig.
            let share = field == "connections" ? total : total / Double(Swift.max(drivers.count, 1))
            message.valueByDriver = Dictionary(uniqueKeysWithValues: drivers.map { ($0, share) })
        }
        message.applyAtMsByDriver = onDriverClocks(applyAt, clockOffsets(of: drivers))
        do { try publisher.publish(.change(message)) } catch { throw .notSent("\(error)") }
        let record = ChangeRecord(seq: seq, at_s: (Double(applyAt - run.startAtMs) / 1000 * 1000).rounded() / 1000, scenario: scenario.name,
                                  field: field == "pause" || field == "resume" ? "paused" : field, from: from, to: to)
        run.steering.record(record)
        save(run)
        onEvent(.change(testID: run.id, change: record))
        log.info("test load changed", metadata: ["test_id": "\(run.id)", "seq": "\(seq)", "scenario": "\(scenario.name)", "field": "\(record.field)",
                                                 "to": "\(to)", "at_s": "\(record.at_s)"])
        return record
    }
}
