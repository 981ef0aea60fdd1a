import StampedeModel
import StampedeWire

/// A running test's steering: every change so far, each scenario's load now (the test's totals,
/// `connections` per driver as in a TestConfig), and its pauses.
struct Steering {
    private(set) var changes: [ChangeRecord] = []
    private var load: [String: [String: Double]] = [:]
    /// Seconds from the start at which the running pause began (nil: not paused).
    private(set) var pausedAtS: Double?
    /// Paused seconds of the pauses that ended.
    private(set) var pausedS = 0.0
    /// Paused stretches, as seconds from the start (the last one open while paused).
    private(set) var pauses: [(from: Double, to: Double?)] = []

    var nextSeq: Int { changes.count + 1 }
    var isPaused: Bool { pausedAtS != nil }

    func value(_ scenario: String, _ field: String) -> Double? { load[scenario]?[field] }

    mutating func record(_ change: ChangeRecord) {
        changes.append(change)
        switch (change.field, change.to) {
        case ("paused", .flag(true)):
            if pausedAtS == nil {
                pausedAtS = change.at_s
                pauses.append((change.at_s, nil))
            }
        case ("paused", .flag(false)):
            if let since = pausedAtS {
                pausedS += Swift.max(0, change.at_s - since)
                pauses[pauses.count - 1].to = change.at_s
            }
            pausedAtS = nil
        case (let field, .number(let v)):
            load[change.scenario, default: [:]][field] = v
        default: break
        }
    }

    /// Paused seconds up to `endS` (a pause still on counts to the end).
    func pausedSeconds(untilS endS: Double) -> Double {
        pausedS + (pausedAtS.map { Swift.max(0, endS - $0) } ?? 0)
    }

    /// Whether second `t` (1-based: from t-1 to t) was paused in any part.
    func isPaused(second t: Int) -> Bool {
        pauses.contains { p in p.from < Double(t) && (p.to ?? .infinity) > Double(t - 1) }
    }
}

extension TestRun {
    /// A scenario's load in `field` now: its last change, or the start's (nil: the field is not
    /// one its model has).
    func currentLoad(_ scenario: Scenario, _ field: String) -> Double? {
        if let v = steering.value(scenario.name, field) { return v }
        let load = scenario.load
        switch field {
        case "rate": if case .rate(let r) = load.pacing, !load.pacesSessions { return r } else { return nil }
        case "session_rate": if case .rate(let r) = load.pacing, load.pacesSessions { return r } else { return nil }
        case "connections": return load.mode == .avalanche ? Double(load.connections) : nil
        default: return nil
        }
    }

    /// Sets the report's `changes`, `paused_s` and `late_changes`.
    func setSteering(_ report: inout LoadReport) {
        guard !steering.changes.isEmpty else { return }
        report.changes = steering.changes
        if steering.changes.contains(where: { $0.field == "paused" }) {
            report.paused_s = (steering.pausedSeconds(untilS: report.duration_s) * 1000).rounded() / 1000
        }
        var late: [String: [LateChange]] = [:]
        for (share, final) in finals { if let l = final.lateChanges, !l.isEmpty { late[share.driver, default: []] += l } }
        report.late_changes = late.isEmpty ? nil : late
    }
}
