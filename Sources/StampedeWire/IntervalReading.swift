import StampedeModel

/// `interval` messages read with `JSONReader` instead of Foundation's decoder: a 100-driver
/// second of 20 names in 3 scenarios spent about 150 ms of one core parsing its 100 messages.
/// The fields and their optionality are the Codable ones (`IntervalMessage.CodingKeys`);
/// `IntervalReadingTests` checks both read every message alike.
public enum IntervalReading {
    public enum Outcome: Equatable {
        case interval(IntervalMessage)
        /// A message of another type, or of a newer `v`, or one that failed before its `type`
        /// and `v` were read (`failure`): the general decoder reads it. Should that make it an
        /// interval after all, `failure` is why it is refused.
        case notThisReader(failure: String?)
        /// An interval of this version that cannot be read, and why (field, byte, problem).
        case malformed(String)
    }

    public static func read(_ bytes: [UInt8]) -> Outcome {
        var reader = JSONReader(bytes)
        var m = IntervalFields()
        do {
            try reader.object { (r, name) throws(JSONReader.Failure) in try m.read(name, &r) }
            try reader.end()
        } catch {
            // With sorted keys `type` and `v` come last: a failure before them is the general
            // decoder's to describe (it may be a newer version's field).
            guard m.type == "interval", let v = m.v, v <= busMessageVersion else { return .notThisReader(failure: error.description) }
            return .malformed(error.description)
        }
        guard m.type == "interval", let v = m.v, v <= busMessageVersion else { return .notThisReader(failure: nil) }
        do { return .interval(try m.message(at: reader.offset)) } catch { return .malformed(error.description) }
    }
}

/// An interval's fields as they are read (the required ones optional until the end).
private struct IntervalFields {
    var type: String?
    var v: Int?
    var driverID: String?, testID: String?
    var t: Int?
    var counted = CountersRead()
    var rest = IntervalMessage(driverID: "", testID: "", t: 0, requests: 0, responses: 0, errors: ErrorCounts(), bytesRead: 0, histogram: "")

    mutating func read(_ name: String, _ r: inout JSONReader) throws(JSONReader.Failure) {
        if try r.countersField(name, into: &rest, read: &counted) { return }
        switch name {
        case "type": type = try r.string()
        case "v": v = try r.int()
        case "driver_id": driverID = try r.string()
        case "test_id": testID = try r.string()
        case "t": t = try r.int()
        case "connections": rest.connections = try r.optional { (r) throws(JSONReader.Failure) in try r.int() }
        case "target_rate": rest.targetRate = try r.optional { (r) throws(JSONReader.Failure) in try r.double() }
        case "target_connections": rest.targetConnections = try r.optional { (r) throws(JSONReader.Failure) in try r.double() }
        case "part": rest.part = try r.optional { (r) throws(JSONReader.Failure) in try r.int() }
        case "scenarios": rest.scenarios = try r.optional { (r) throws(JSONReader.Failure) in try r.scenarios() }
        default: try r.skip()
        }
    }

    func message(at offset: Int) throws(JSONReader.Failure) -> IntervalMessage {
        var m = rest
        m.v = v ?? busMessageVersion
        m.driverID = try required(driverID, "driver_id", offset)
        m.testID = try required(testID, "test_id", offset)
        m.t = try required(t, "t", offset)
        try counted.requireAll(at: offset)
        return m
    }
}

/// Which of the fields every metrics share must carry (`CountersMessage`) were read.
private struct CountersRead {
    var requests = false, responses = false, errors = false, bytesRead = false, histogram = false

    func requireAll(at offset: Int) throws(JSONReader.Failure) {
        for (wasRead, name) in [(requests, "requests"), (responses, "responses"), (errors, "errors"), (bytesRead, "bytes_read"),
                                (histogram, "histogram")] where !wasRead {
            throw JSONReader.Failure(offset: offset, problem: "no '\(name)'")
        }
    }
}

private func required<T>(_ value: T?, _ name: String, _ offset: Int) throws(JSONReader.Failure) -> T {
    guard let value else { throw JSONReader.Failure(offset: offset, problem: "no '\(name)'") }
    return value
}

extension JSONReader {
    /// nil for `null`, else what `read` reads (an absent name stays nil where it is kept).
    mutating func optional<T>(_ read: (inout JSONReader) throws(Failure) -> T) throws(Failure) -> T? {
        try null() ? nil : try read(&self)
    }

    /// A kind this build does not know is skipped, `null` is 0 (as `ErrorCounts`' decoding does).
    mutating func errorCounts() throws(Failure) -> ErrorCounts {
        var e = ErrorCounts()
        try object { (r, name) throws(Failure) in
            func count() throws(Failure) -> Int { try r.null() ? 0 : try r.int() }
            switch name {
            case "connect": e.connect = try count()
            case "tls": e.tls = try count()
            case "timeout": e.timeout = try count()
            case "read": e.read = try count()
            case "write": e.write = try count()
            case "parse": e.parse = try count()
            case "status_4xx": e.status_4xx = try count()
            case "status_5xx": e.status_5xx = try count()
            case "check": e.check = try count()
            case "capture": e.capture = try count()
            case "redirects": e.redirects = try count()
            default: try r.skip()
            }
        }
        return e
    }

    mutating func checkFailures() throws(Failure) -> CheckFailures {
        var status: Int?, body: Int?
        try object { (r, name) throws(Failure) in
            switch name {
            case "status": status = try r.int()
            case "body": body = try r.int()
            default: try r.skip()
            }
        }
        return CheckFailures(status: try required(status, "status", offset), body: try required(body, "body", offset))
    }

    /// Codes are three digits, 100...999 (the decoder's dictionary dropped anything else unsaid).
    mutating func statusCodes() throws(Failure) -> StatusCodeCounts {
        var codes = StatusCodeCounts()
        try object { (r, name) throws(Failure) in
            guard name.utf8.count == 3, let code = Int(name), (100...999).contains(code) else {
                throw Failure(offset: r.offset, problem: "not a status code")
            }
            codes.add(code, try r.int())
        }
        return codes
    }

    mutating func byName() throws(Failure) -> [String: NameShare] {
        var shares: [String: NameShare] = [:]
        try object { (r, name) throws(Failure) in shares[name] = try r.nameShare() }
        return shares
    }

    mutating func nameShare() throws(Failure) -> NameShare {
        var requests: Int?, responses: Int?, errors: ErrorCounts?, statusCodes: StatusCodeCounts?, histogram: String?
        var sessionFailures: ErrorCounts?, checkFailures: CheckFailures?, timings: TimingsShare?
        try object { (r, name) throws(Failure) in
            switch name {
            case "requests": requests = try r.int()
            case "responses": responses = try r.int()
            case "errors": errors = try r.errorCounts()
            case "status_codes": statusCodes = try r.statusCodes()
            case "histogram": histogram = try r.string()
            case "session_failures": sessionFailures = try r.optional { (r) throws(Failure) in try r.errorCounts() }
            case "check_failures": checkFailures = try r.optional { (r) throws(Failure) in try r.checkFailures() }
            case "timings": timings = try r.optional { (r) throws(Failure) in try r.timings() }
            default: try r.skip()
            }
        }
        var share = NameShare(requests: try required(requests, "requests", offset), responses: try required(responses, "responses", offset),
                              errors: try required(errors, "errors", offset), statusCodes: try required(statusCodes, "status_codes", offset),
                              histogram: try required(histogram, "histogram", offset))
        share.sessionFailures = sessionFailures
        share.checkFailures = checkFailures
        share.timings = timings
        return share
    }

    mutating func timings() throws(Failure) -> TimingsShare {
        var share = TimingsShare()
        try object { (r, name) throws(Failure) in
            func histogram() throws(Failure) -> String? { try r.optional { (r) throws(Failure) in try r.string() } }
            switch name {
            case "connect_us": share.connect = try histogram()
            case "tls_us": share.tls = try histogram()
            case "waiting_us": share.waiting = try histogram()
            case "receiving_us": share.receiving = try histogram()
            default: try r.skip()
            }
        }
        return share
    }

    mutating func sessionShare() throws(Failure) -> SessionShare {
        var counts: SessionCounts?, duration: String?, active: String?, startDelay: String?
        try object { (r, name) throws(Failure) in
            switch name {
            case "counts": counts = try r.sessionCounts()
            case "duration_histogram": duration = try r.string()
            case "active_histogram": active = try r.string()
            case "start_delay_histogram": startDelay = try r.optional { (r) throws(Failure) in try r.string() }
            default: try r.skip()
            }
        }
        var share = SessionShare(counts: try required(counts, "counts", offset), durationHistogram: try required(duration, "duration_histogram", offset),
                                 activeHistogram: try required(active, "active_histogram", offset))
        share.startDelayHistogram = startDelay
        return share
    }

    mutating func sessionCounts() throws(Failure) -> SessionCounts {
        var started: Int?, completed: Int?, failures: ErrorCounts?, dropped: Int?, interrupted: Int?
        try object { (r, name) throws(Failure) in
            switch name {
            case "started": started = try r.int()
            case "completed": completed = try r.int()
            case "failures": failures = try r.errorCounts()
            case "dropped": dropped = try r.int()
            case "interrupted": interrupted = try r.int()
            default: try r.skip()
            }
        }
        var counts = SessionCounts()
        counts.started = try required(started, "started", offset)
        counts.completed = try required(completed, "completed", offset)
        counts.failures = try required(failures, "failures", offset)
        counts.dropped = try required(dropped, "dropped", offset)
        counts.interrupted = try required(interrupted, "interrupted", offset)
        return counts
    }

    /// A field every metrics share carries (`CountersMessage`: an interval's, a scenario's),
    /// read into `m`; false for any other name.
    fileprivate mutating func countersField<M: CountersMessage>(_ name: String, into m: inout M, read: inout CountersRead) throws(Failure) -> Bool {
        switch name {
        case "requests": m.requests = try int(); read.requests = true
        case "responses": m.responses = try int(); read.responses = true
        case "errors": m.errors = try errorCounts(); read.errors = true
        case "bytes_read": m.bytesRead = try int(); read.bytesRead = true
        case "histogram": m.histogram = try string(); read.histogram = true
        case "retried_stale": m.retriedStale = try optional { (r) throws(Failure) in try r.int() }
        case "cookies_dropped": m.cookiesDropped = try optional { (r) throws(Failure) in try r.int() }
        case "unsent": m.unsent = try optional { (r) throws(Failure) in try r.int() }
        case "check_failures": m.checkFailures = try optional { (r) throws(Failure) in try r.checkFailures() }
        case "status_codes": m.statusCodes = try optional { (r) throws(Failure) in try r.statusCodes() }
        case "by_name": m.byName = try optional { (r) throws(Failure) in try r.byName() }
        case "sessions": m.sessions = try optional { (r) throws(Failure) in try r.sessionShare() }
        case "timings": m.timings = try optional { (r) throws(Failure) in try r.timings() }
        default: return false
        }
        return true
    }

    mutating func scenarios() throws(Failure) -> [String: ScenarioShare] {
        var shares: [String: ScenarioShare] = [:]
        try object { (r, name) throws(Failure) in shares[name] = try r.scenarioShare() }
        return shares
    }

    /// An interval's scenario: a final's own fields (`service_histogram`, `unsent_per_second`,
    /// `duration_s`) are read too, so the share is the one the decoder would make.
    mutating func scenarioShare() throws(Failure) -> ScenarioShare {
        var s = ScenarioShare()
        var counted = CountersRead()
        try object { (r, name) throws(Failure) in
            if try r.countersField(name, into: &s, read: &counted) { return }
            switch name {
            case "service_histogram": s.serviceHistogram = try r.optional { (r) throws(Failure) in try r.string() }
            case "unsent_per_second":
                s.unsentPerSecond = try r.optional { (r) throws(Failure) in
                    var seconds: [Int] = []
                    try r.array { (r) throws(Failure) in seconds.append(try r.int()) }
                    return seconds
                }
            case "duration_s": s.durationS = try r.optional { (r) throws(Failure) in try r.double() }
            case "target_rate": s.targetRate = try r.optional { (r) throws(Failure) in try r.double() }
            default: try r.skip()
            }
        }
        try counted.requireAll(at: offset)
        return s
    }
}
