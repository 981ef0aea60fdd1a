import HTTP1
import StampedeModel

/// The reads of a TestConfig's fields that either form (a test, or one of its scenarios) shares:
/// each type-checks its field and names it on failure.
extension TestConfig {
    /// `order`, `seed` and `data`: the workload settings of either form.
    static func readWorkload(_ r: FieldReader, into load: inout LoadSpec) throws(FieldError) {
        switch try r.string(.order) {
        case nil: load.order = .random
        case let text?:
            guard let order = RequestOrder(rawValue: text.lowercased()) else {
                throw FieldError("order", "must be random or sequence, got '\(text)'")
            }
            load.order = order
        }
        if let text = try r.string(.cookies) {
            guard let mode = CookieMode(rawValue: text) else {
                throw FieldError(.cookies, "must be session, keep or off, got '\(text)'")
            }
            load.cookies = mode
        }
        if let bytes = try r.integer(.capture_bytes) { load.captureBytes = bytes }
        if let hops = try r.integer(.follow_redirects) { load.followRedirects = hops }
        if let seed = try r.integer(.seed) {
            guard seed >= 0 else { throw FieldError("seed", "must be a non-negative integer, got \(seed)") }
            load.seed = UInt64(seed)
        }
        if let data = try r.object(.data) {
            let d = FieldReader(object: data, path: "data")
            if let unknown = data.keys.sorted().first(where: { $0 != "csv" }) { throw FieldError(d.name(unknown), "unknown field (known: csv)") }
            guard let csv = try d.string("csv") else { throw FieldError(d.name("csv"), "is required (the CSV text, header line first)") }
            do { load.data = try CSVData(parsing: csv) } catch { throw FieldError(d.name("csv"), error.reason) }
        }
    }

    /// `slo` (`{"p99_ms": 50, "error_rate": 0.01}`), `start_rate`, `max_rate`, `step_s`.
    static func readSearch(_ r: FieldReader, object: [String: JSONValue]) throws(FieldError) -> CapacitySearch {
        var slo: [Threshold] = []
        for (name, value) in (try r.object(.slo) ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard case .number(let n) = value else { throw FieldError("slo", "'\(name)' must be a number") }
            do { slo.append(try Threshold(parsing: "\(name)=\(n)")) } catch { throw FieldError("slo", error.reason) }
        }
        let startRate = try r.number(.start_rate) ?? CapacitySearch.defaultStartRate
        let maxRate = try r.number(.max_rate) ?? CapacitySearch.defaultMaxRate
        let stepS = try r.number(.step_s) ?? CapacitySearch.defaultStepS
        do {
            return try CapacitySearch(slo: slo, startRate: startRate, maxRate: maxRate, stepS: stepS)
        } catch { throw FieldError(error.setting.rawValue, error.reason) }
    }

    /// `stages` (`[{"duration_s", "target"}]`) and `start`, errors naming the stage.
    /// `"p99_ms": 500`, or `"p99_ms": {"limit": 500, "abort_on_fail": true, "delay_abort_eval_s": 10}`.
    static func readThreshold(_ name: String, _ value: JSONValue) throws(FieldError) -> Threshold {
        func parsed(_ limit: Double) throws(FieldError) -> Threshold {
            do { return try Threshold(parsing: "\(name)=\(limit)") } catch { throw FieldError(.thresholds, error.reason) }
        }
        switch value {
        case .number(let n): return try parsed(n)
        case .object(let o):
            let field = "thresholds.\(name)"
            let known = ["limit", "abort_on_fail", "delay_abort_eval_s"]
            if let unknown = o.keys.sorted().first(where: { !known.contains($0) }) {
                throw FieldError("\(field).\(unknown)", "unknown field (known: \(known.joined(separator: ", ")))")
            }
            let t = FieldReader(object: o, path: field)
            guard let limit = try t.number("limit") else { throw FieldError("\(field).limit", "is required (a number)") }
            var threshold = try parsed(limit)
            let abort: Bool
            switch o["abort_on_fail"] {
            case nil, .null?: abort = false
            case .bool(let b)?: abort = b
            case let other?: throw FieldError("\(field).abort_on_fail", "must be true or false, not \(other.kind)")
            }
            let delay = try t.number("delay_abort_eval_s") ?? 0
            do { try threshold.setAbort(abort, afterS: delay) } catch {
                throw FieldError(delay != 0 ? "\(field).delay_abort_eval_s" : "\(field).abort_on_fail", error.reason)
            }
            return threshold
        default: throw FieldError(.thresholds, "'\(name)' must be a number, or an object {\"limit\", \"abort_on_fail\", \"delay_abort_eval_s\"}, not \(value.kind)")
        }
    }

    static func readStages(_ r: FieldReader) throws(FieldError) -> StageProfile? {
        guard let list = try r.array(.stages) else { return nil }
        var stages: [Stage] = []
        for (k, item) in list.enumerated() {
            guard case .object(let o) = item else { throw FieldError("stages[\(k)]", "must be an object {\"duration_s\", \"target\"}, not \(item.kind)") }
            let s = FieldReader(object: o, path: "stages[\(k)]")
            if let unknown = o.keys.sorted().first(where: { $0 != "duration_s" && $0 != "target" }) {
                throw FieldError(s.name(unknown), "unknown field (known: duration_s, target)")
            }
            guard let d = try s.number("duration_s") else { throw FieldError(s.name("duration_s"), "is required (seconds > 0)") }
            guard let t = try s.number("target") else { throw FieldError(s.name("target"), "is required (requests/s for tsunami, connections for avalanche)") }
            stages.append(Stage(durationS: d, target: t))
        }
        return StageProfile(start: try r.number(.start) ?? 0, stages: stages)
    }
}
