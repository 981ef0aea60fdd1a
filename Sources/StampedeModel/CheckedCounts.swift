/// A sum of counters that does not fit: the counts came from outside (a bus message, a stored
/// report) and are refused rather than trapping the process. Names the field as the wire does.
public struct CounterOverflow: Error, Equatable, CustomStringConvertible {
    public let field: String
    public init(field: String) { self.field = field }
    public var description: String { "'\(field)' overflows when added" }
}

/// Adds `b` to `a`, or throws naming `field` when the sum does not fit.
@inline(__always)
func addChecked(_ a: inout Int, _ b: Int, _ field: String) throws(CounterOverflow) {
    let (sum, overflow) = a.addingReportingOverflow(b)
    if overflow { throw CounterOverflow(field: field) }
    a = sum
}

extension ErrorCounts {
    /// Whether every count (the kinds and `check_failures`) lies in `range`: the check a message's
    /// every share takes, with no field names made (`namedCounts` names the one that does not).
    @inlinable
    public func allCounts(in range: ClosedRange<Int>) -> Bool {
        range.contains(connect) && range.contains(tls) && range.contains(timeout) && range.contains(read)
            && range.contains(write) && range.contains(parse) && range.contains(status_4xx) && range.contains(status_5xx)
            && range.contains(check) && range.contains(capture) && range.contains(redirects)
            && range.contains(check_status) && range.contains(check_body)
    }

    /// Every count by its wire name (the `errors` kinds, then `check_failures`).
    public var namedCounts: [(field: String, value: Int)] {
        byKind.map { ("errors.\($0.kind)", $0.count) } + [("check_failures.status", check_status), ("check_failures.body", check_body)]
    }

    /// `self + b`, or `CounterOverflow` naming the first field that does not fit.
    public func adding(_ b: ErrorCounts) throws(CounterOverflow) -> ErrorCounts {
        var r = self
        try addChecked(&r.connect, b.connect, "errors.connect"); try addChecked(&r.tls, b.tls, "errors.tls")
        try addChecked(&r.timeout, b.timeout, "errors.timeout"); try addChecked(&r.read, b.read, "errors.read")
        try addChecked(&r.write, b.write, "errors.write"); try addChecked(&r.parse, b.parse, "errors.parse")
        try addChecked(&r.status_4xx, b.status_4xx, "errors.status_4xx"); try addChecked(&r.status_5xx, b.status_5xx, "errors.status_5xx")
        try addChecked(&r.check, b.check, "errors.check"); try addChecked(&r.capture, b.capture, "errors.capture")
        try addChecked(&r.redirects, b.redirects, "errors.redirects")
        try addChecked(&r.check_status, b.check_status, "check_failures.status")
        try addChecked(&r.check_body, b.check_body, "check_failures.body")
        // `total` sums the kinds: it must fit too.
        var total = 0
        for (field, n) in r.byKind { try addChecked(&total, n, "errors.\(field)") }
        return r
    }
}

extension SessionCounts {
    @inlinable
    public func allCounts(in range: ClosedRange<Int>) -> Bool {
        range.contains(started) && range.contains(completed) && range.contains(dropped) && range.contains(interrupted)
            && failures.allCounts(in: range)
    }

    public var namedCounts: [(field: String, value: Int)] {
        [("sessions.started", started), ("sessions.completed", completed), ("sessions.dropped", dropped),
         ("sessions.interrupted", interrupted)] + failures.namedCounts.map { ("sessions.failures.\($0.field)", $0.value) }
    }

    public func adding(_ b: SessionCounts) throws(CounterOverflow) -> SessionCounts {
        var r = self
        try addChecked(&r.started, b.started, "sessions.started"); try addChecked(&r.completed, b.completed, "sessions.completed")
        try addChecked(&r.dropped, b.dropped, "sessions.dropped"); try addChecked(&r.interrupted, b.interrupted, "sessions.interrupted")
        r.failures = try failures.adding(b.failures)
        return r
    }
}

extension LoadCounters {
    /// Whether every count lies in `range` (as `namedCounts` lists them, status codes included
    /// whatever their sign): no strings made, so checking every share of a message stays cheap.
    public func allCounts(in range: ClosedRange<Int>) -> Bool {
        range.contains(requests) && range.contains(responses) && range.contains(bytesRead) && range.contains(tlsResumed)
            && range.contains(tlsHandshakes) && range.contains(connects) && range.contains(retriedStale)
            && range.contains(cookiesDropped) && range.contains(unsent)
            && errors.allCounts(in: range) && sessions.allCounts(in: range) && statusCodes.allCounts(in: range)
    }

    /// Every count by its wire name: what a message's ranges are checked over.
    public var namedCounts: [(field: String, value: Int)] {
        [("requests", requests), ("responses", responses), ("bytes_read", bytesRead), ("tls_resumed", tlsResumed),
         ("tls_handshakes", tlsHandshakes), ("connects", connects), ("retried_stale", retriedStale),
         ("cookies_dropped", cookiesDropped), ("unsent", unsent)]
            + errors.namedCounts + sessions.namedCounts
            + statusCodes.byCode.map { ("status_codes.\($0.key)", $0.value) }
    }

    /// `self + b` for counts from outside: `CounterOverflow` naming the first field whose sum does
    /// not fit, instead of the trap `+` would take.
    public func adding(_ b: LoadCounters) throws(CounterOverflow) -> LoadCounters {
        var r = self
        try addChecked(&r.requests, b.requests, "requests"); try addChecked(&r.responses, b.responses, "responses")
        try addChecked(&r.bytesRead, b.bytesRead, "bytes_read"); try addChecked(&r.tlsResumed, b.tlsResumed, "tls_resumed")
        try addChecked(&r.tlsHandshakes, b.tlsHandshakes, "tls_handshakes"); try addChecked(&r.connects, b.connects, "connects")
        try addChecked(&r.retriedStale, b.retriedStale, "retried_stale")
        try addChecked(&r.cookiesDropped, b.cookiesDropped, "cookies_dropped"); try addChecked(&r.unsent, b.unsent, "unsent")
        r.errors = try errors.adding(b.errors)
        r.sessions = try sessions.adding(b.sessions)
        r.statusCodes = try statusCodes.adding(b.statusCodes)
        return r
    }
}

extension StatusCodeCounts {
    /// Whether every code's count (zero or not) lies in `range`.
    public func allCounts(in range: ClosedRange<Int>) -> Bool {
        counts.allSatisfy { range.contains($0) } && unusual.values.allSatisfy { range.contains($0) }
    }

    public func adding(_ b: StatusCodeCounts) throws(CounterOverflow) -> StatusCodeCounts {
        var r = self
        for (code, n) in b.byCode {
            var sum = count(Int(code)!)
            try addChecked(&sum, n, "status_codes.\(code)")
            r.add(Int(code)!, n)
        }
        return r
    }
}
