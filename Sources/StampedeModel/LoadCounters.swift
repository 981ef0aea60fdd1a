/// Errors by kind, as the report's `errors` object names them.
public struct ErrorCounts: Sendable, Equatable, Codable {
    /// TCP connect failed (refused, unreachable, timed out).
    public var connect = 0
    /// The TLS handshake failed (a certificate that does not verify, a server that does not speak
    /// TLS) or did not finish in time.
    public var tls = 0
    public var timeout = 0
    public var read = 0
    public var write = 0
    public var parse = 0
    public var status_4xx = 0
    public var status_5xx = 0
    /// Responses that failed a check: a status outside `expect_status`, a body without `expect_body`.
    public var check = 0
    /// Sessions failed because a capture found nothing and had no default (the session's later
    /// requests were not sent). Counted under the request whose response lacked the value.
    public var capture = 0
    /// `follow_redirects`: responses that were still a redirect after the last hop allowed.
    public var redirects = 0
    /// Of `check`: responses whose status was outside `expect_status`, and whose body lacked
    /// `expect_body` (a response failing both counts in each). Not added to `total`, and not in
    /// the `errors` object (its kinds add up): reports and messages carry them as `check_failures`.
    public var check_status = 0
    public var check_body = 0

    /// `check_failures`, when any check failed.
    public var checkFailures: CheckFailures? { check > 0 ? CheckFailures(status: check_status, body: check_body) : nil }

    public init() {}

    public var total: Int { connect + tls + timeout + read + write + parse + status_4xx + status_5xx + check + capture + redirects }

    /// Every kind with its count, in the report's order and spelling.
    public var byKind: [(kind: String, count: Int)] {
        [("connect", connect), ("tls", tls), ("timeout", timeout), ("read", read), ("write", write), ("parse", parse),
         ("status_4xx", status_4xx), ("status_5xx", status_5xx), ("check", check), ("capture", capture), ("redirects", redirects)]
    }

    /// Errors where no usable response came back (status errors are responses).
    public var transport: Int { connect + tls + timeout + read + write + parse }

    /// The `error_rate` of `requests`: failed over sent, at most 1. Connects that failed before a
    /// request could go out are errors too, so errors with no request sent are a rate of 1, not 0.
    public func rate(per requests: Int) -> Double {
        guard requests > 0 else { return total > 0 ? 1 : 0 }
        return Swift.min(1, Double(total) / Double(requests))
    }

    public static func + (a: ErrorCounts, b: ErrorCounts) -> ErrorCounts {
        var r = a
        r.connect += b.connect; r.tls += b.tls; r.timeout += b.timeout; r.read += b.read; r.write += b.write
        r.parse += b.parse; r.status_4xx += b.status_4xx; r.status_5xx += b.status_5xx; r.check += b.check
        r.capture += b.capture; r.redirects += b.redirects
        r.check_status += b.check_status; r.check_body += b.check_body
        return r
    }

    private enum CodingKeys: String, CodingKey { case connect, tls, timeout, read, write, parse, status_4xx, status_5xx, check, capture, redirects }

    /// A kind missing from the message counts 0: reports and messages written before a kind was
    /// added still read, and bus messages leave out the kinds that are 0. Only the keys present
    /// are read (a bus message's second carries ~80 of these, most empty).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        for key in c.allKeys {
            let n = try c.decodeIfPresent(Int.self, forKey: key) ?? 0
            switch key {
            case .connect: connect = n
            case .tls: tls = n
            case .timeout: timeout = n
            case .read: read = n
            case .write: write = n
            case .parse: parse = n
            case .status_4xx: status_4xx = n
            case .status_5xx: status_5xx = n
            case .check: check = n
            case .capture: capture = n
            case .redirects: redirects = n
            }
        }
    }

    /// Every kind, as reports show them; only the kinds above 0 where the encoder's `userInfo`
    /// asks for sparse counts (bus messages: 11 keys in each of ~80 objects a second, mostly 0,
    /// were over half the keys of a scenario test's interval message, and of its parsing time).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let sparse = encoder.userInfo[.sparseCounts] as? Bool == true
        func put(_ n: Int, _ key: CodingKeys) throws { if !sparse || n != 0 { try c.encode(n, forKey: key) } }
        try put(connect, .connect); try put(tls, .tls); try put(timeout, .timeout); try put(read, .read)
        try put(write, .write); try put(parse, .parse); try put(status_4xx, .status_4xx); try put(status_5xx, .status_5xx)
        try put(check, .check); try put(capture, .capture); try put(redirects, .redirects)
    }
}

extension CodingUserInfoKey {
    /// `true`: counts that are 0 are left out (`ErrorCounts`), as bus messages carry them.
    public static let sparseCounts = CodingUserInfoKey(rawValue: "stampede.sparseCounts")!
}

/// Why checks failed (`check_failures`): on the status, on the body.
public struct CheckFailures: Sendable, Equatable, Codable {
    public var status: Int
    public var body: Int

    public init(status: Int, body: Int) { self.status = status; self.body = body }
}

extension ErrorCounts {
    /// Takes a message's or report's `check_failures` back into the counts.
    public mutating func setCheckFailures(_ c: CheckFailures?) {
        check_status = c?.status ?? 0
        check_body = c?.body ?? 0
    }
}

/// Plain per-thread counters (no atomics: each reactor thread owns its own; they are summed).
public struct LoadCounters: Sendable, Equatable {
    /// Requests whose first byte was written.
    public var requests = 0
    /// Complete responses of any status.
    public var responses = 0
    public var bytesRead = 0
    public var errors = ErrorCounts()
    /// TLS handshakes that resumed a saved session, and all TLS handshakes.
    public var tlsResumed = 0
    public var tlsHandshakes = 0
    public var connects = 0
    /// Idempotent requests resent once because a reused keep-alive connection closed before any
    /// byte of the response (the server timed it out as the request went out). Not errors.
    public var retriedStale = 0
    /// Cookies a response set that the jar refused: over 4096 bytes, beyond 50 per jar, or for a
    /// domain the response's host may not set (RFC 6265's limits). Not errors; reported.
    public var cookiesDropped = 0
    public var statusCodes = StatusCodeCounts()
    /// `order: sequence`: sessions (a run's, or, in a name's counters, the failures at that step).
    public var sessions = SessionCounts()
    /// A timed tsunami: slots due before the end that never went out (the connections could not
    /// carry the rate). Requests sent plus these are the run's intended requests.
    public var unsent = 0

    public init() {}

    /// Counters as a report or a bus message carries them.
    public init(requests: Int, responses: Int, errors: ErrorCounts, bytesRead: Int = 0, retriedStale: Int = 0,
                statusCodes: StatusCodeCounts = StatusCodeCounts()) {
        self.statusCodes = statusCodes
        self.requests = requests
        self.responses = responses
        self.errors = errors
        self.bytesRead = bytesRead
        self.retriedStale = retriedStale
    }

    public static func + (a: LoadCounters, b: LoadCounters) -> LoadCounters {
        var r = a
        r.requests += b.requests; r.responses += b.responses; r.bytesRead += b.bytesRead
        r.errors = a.errors + b.errors; r.tlsResumed += b.tlsResumed; r.tlsHandshakes += b.tlsHandshakes
        r.connects += b.connects; r.retriedStale += b.retriedStale; r.cookiesDropped += b.cookiesDropped
        r.statusCodes += b.statusCodes
        r.sessions = a.sessions + b.sessions
        r.unsent += b.unsent
        return r
    }

    public static func += (a: inout LoadCounters, b: LoadCounters) { a = a + b }
}

/// Sessions by outcome. Every started session ends as exactly one of completed, failed (by the
/// kind of failure, at the step where it failed) or interrupted (the run ended during it);
/// `dropped` ones never started (open model: no free connection within the timeout).
public struct SessionCounts: Sendable, Equatable, Codable {
    public var started = 0
    public var completed = 0
    public var failures = ErrorCounts()
    public var dropped = 0
    public var interrupted = 0

    public init() {}

    public var failed: Int { failures.total }
    public var isEmpty: Bool { self == SessionCounts() }

    /// Failed over ended (completed or failed); 0 when none ended.
    public var errorRate: Double {
        let ended = completed + failed
        return ended == 0 ? 0 : Double(failed) / Double(ended)
    }

    public static func + (a: SessionCounts, b: SessionCounts) -> SessionCounts {
        var r = a
        r.started += b.started; r.completed += b.completed; r.failures = a.failures + b.failures
        r.dropped += b.dropped; r.interrupted += b.interrupted
        return r
    }

    public static func += (a: inout SessionCounts, b: SessionCounts) { a = a + b }
}

/// Responses by status code (100...999: any three digits a server sends, 6xx to 9xx included), as the report's `status_codes` names them: `{"200": n}`.
/// Storage appears with the first response, so empty counters cost nothing to copy or add.
public struct StatusCodeCounts: Sendable, Equatable, Codable {
    private(set) var counts: [Int] = []
    /// 600...999: three digits no RFC defines, counted as sent (rare: a dictionary, not 400 more slots).
    private(set) var unusual: [Int: Int] = [:]

    public init() {}

    public init(_ byCode: [String: Int]) {
        for (code, n) in byCode { if let c = Int(code) { add(c, n) } }
    }

    @inline(__always)
    public mutating func record(_ status: Int) { add(status, 1) }

    public mutating func add(_ status: Int, _ n: Int) {
        guard (100...999).contains(status), n != 0 else { return }
        guard status < 600 else { unusual[status, default: 0] += n; return }
        if counts.isEmpty { counts = Array(repeating: 0, count: 500) }
        counts[status - 100] += n
    }

    public func count(_ status: Int) -> Int {
        if status >= 600 { return unusual[status] ?? 0 }
        return (100...599).contains(status) && !counts.isEmpty ? counts[status - 100] : 0
    }

    public var isEmpty: Bool { counts.allSatisfy { $0 == 0 } && unusual.isEmpty }

    /// Status text → count, codes with a count only.
    public var byCode: [String: Int] {
        var out: [String: Int] = [:]
        for (k, n) in counts.enumerated() where n > 0 { out[String(k + 100)] = n }
        for (code, n) in unusual where n > 0 { out[String(code)] = n }
        return out
    }

    public static func += (a: inout StatusCodeCounts, b: StatusCodeCounts) {
        for (code, n) in b.unusual { a.unusual[code, default: 0] += n }
        guard !b.counts.isEmpty else { return }
        if a.counts.isEmpty { a.counts = b.counts; return }
        for k in b.counts.indices { a.counts[k] += b.counts[k] }
    }

    public init(from decoder: Decoder) throws { self.init(try [String: Int](from: decoder)) }
    public func encode(to encoder: Encoder) throws { try byCode.encode(to: encoder) }
}

/// Two per-second counts added second by second (the longer one's tail kept).
public func addedPerSecond(_ a: [Int], _ b: [Int]) -> [Int] {
    (0..<Swift.max(a.count, b.count)).map { (($0 < a.count) ? a[$0] : 0) + (($0 < b.count) ? b[$0] : 0) }
}
