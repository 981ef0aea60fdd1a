/// Errors by kind, as the report's `errors` object names them.
public struct ErrorCounts: Sendable, Equatable, Codable {
    public var connect = 0
    public var timeout = 0
    public var read = 0
    public var write = 0
    public var parse = 0
    public var status_4xx = 0
    public var status_5xx = 0

    public init() {}

    public var total: Int { connect + timeout + read + write + parse + status_4xx + status_5xx }

    /// Errors where no usable response came back (status errors are responses).
    public var transport: Int { connect + timeout + read + write + parse }

    public static func + (a: ErrorCounts, b: ErrorCounts) -> ErrorCounts {
        var r = a
        r.connect += b.connect; r.timeout += b.timeout; r.read += b.read; r.write += b.write
        r.parse += b.parse; r.status_4xx += b.status_4xx; r.status_5xx += b.status_5xx
        return r
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

    public init() {}

    /// Counters as a report or a bus message carries them.
    public init(requests: Int, responses: Int, errors: ErrorCounts, bytesRead: Int = 0) {
        self.requests = requests
        self.responses = responses
        self.errors = errors
        self.bytesRead = bytesRead
    }

    public static func + (a: LoadCounters, b: LoadCounters) -> LoadCounters {
        var r = a
        r.requests += b.requests; r.responses += b.responses; r.bytesRead += b.bytesRead
        r.errors = a.errors + b.errors; r.tlsResumed += b.tlsResumed; r.tlsHandshakes += b.tlsHandshakes
        r.connects += b.connects
        return r
    }

    public static func += (a: inout LoadCounters, b: LoadCounters) { a = a + b }
}
