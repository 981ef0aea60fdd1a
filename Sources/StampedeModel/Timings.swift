import Histogram

/// Where requests' time went, one histogram (µs) per phase, merged exactly like latency:
/// - `connect`: TCP connect, once per new connection (under the name of the first request it
///   carried, connections opened in the connect phase included);
/// - `tls`: the TLS handshake of a new TLS connection;
/// - `waiting`: from the request's last byte written to the response's first byte read (time to
///   first byte);
/// - `receiving`: from the response's first byte read to its end.
/// A response read in one go has its first byte and its end at the same clock reading (receiving
/// 0): the client cannot tell them apart either. Empty histograms cost nothing (they share one
/// empty set of counters until written).
public struct Timings: Sendable, Equatable {
    public var connect = HDRHistogram()
    public var tls = HDRHistogram()
    public var waiting = HDRHistogram()
    public var receiving = HDRHistogram()

    public init() {}

    public var isEmpty: Bool {
        connect.totalCount == 0 && tls.totalCount == 0 && waiting.totalCount == 0 && receiving.totalCount == 0
    }

    /// Connections timed (opened), and TLS handshakes timed (nil: none, a plain-HTTP test).
    public var connects: Int { Int(connect.totalCount) }
    public var handshakes: Int? { tls.totalCount > 0 ? Int(tls.totalCount) : nil }

    public mutating func add(_ other: Timings) throws {
        try connect.add(other.connect)
        try tls.add(other.tls)
        try waiting.add(other.waiting)
        try receiving.add(other.receiving)
    }

    /// Adds timings decoded from a message (sparse: only non-zero counters touched).
    public mutating func add(_ other: DecodedTimings) throws {
        if let h = other.connect { try connect.add(h) }
        if let h = other.tls { try tls.add(h) }
        if let h = other.waiting { try waiting.add(h) }
        if let h = other.receiving { try receiving.add(h) }
    }
}

/// Timings as a message carries them, decoded once (each histogram absent when it was empty),
/// each checked for the latency layout.
public struct DecodedTimings: Sendable {
    public let connect: SparseCounts?
    public let tls: SparseCounts?
    public let waiting: SparseCounts?
    public let receiving: SparseCounts?

    public init(connect: SparseCounts?, tls: SparseCounts?, waiting: SparseCounts?, receiving: SparseCounts?) throws {
        for h in [connect, tls, waiting, receiving] {
            if let h, h.layout != .latency { throw HistogramError.layoutMismatch(.latency, h.layout) }
        }
        self.connect = connect; self.tls = tls; self.waiting = waiting; self.receiving = receiving
    }
}

/// What carries the four timing summaries: the report (whole, per scenario), a name's entry,
/// a second on the live feed.
public protocol TimingFields {
    var connect_us: LatencySummary? { get set }
    var tls_us: LatencySummary? { get set }
    var waiting_us: LatencySummary? { get set }
    var receiving_us: LatencySummary? { get set }
}

extension TimingFields {
    /// Sets the four summaries from `timings`, each absent when nothing was measured
    /// (`tls_us` of a plain-HTTP test, `connect_us` when no connection was opened).
    public mutating func setPhases(_ timings: Timings) {
        func summary(_ h: HDRHistogram) -> LatencySummary? { h.totalCount > 0 ? LatencySummary(h) : nil }
        connect_us = summary(timings.connect)
        tls_us = summary(timings.tls)
        waiting_us = summary(timings.waiting)
        receiving_us = summary(timings.receiving)
    }

    /// Each phase with its summary and how many values it holds (`connects`, `handshakes`, and
    /// one waiting and one receiving time per response).
    public func phases(connects: Int, handshakes: Int, responses: Int) -> [(phase: String, summary: LatencySummary?, count: Int)] {
        [("connect", connect_us, connects), ("tls", tls_us, handshakes), ("waiting", waiting_us, responses), ("receiving", receiving_us, responses)]
    }
}

/// A row of "where the time went" (the summary's table, report.html's bars): a name, or all
/// requests.
public struct TimingRow: Sendable {
    public let name: String
    public let connect, tls, waiting, receiving: LatencySummary?
    public let connects: Int
}

extension LoadReport {
    /// Each name that was timed (when the test has several) in name order, then all requests;
    /// empty when nothing was timed (a report from before timings).
    public var timingRows: [TimingRow] {
        var rows: [TimingRow] = []
        if let byName = by_name, byName.count > 1 {
            for name in byName.keys.sorted() {
                let n = byName[name]!
                guard n.waiting_us != nil || n.connect_us != nil else { continue }
                rows.append(TimingRow(name: name, connect: n.connect_us, tls: n.tls_us, waiting: n.waiting_us, receiving: n.receiving_us,
                                      connects: n.connects ?? 0))
            }
        }
        guard waiting_us != nil || connect_us != nil else { return rows }
        rows.append(TimingRow(name: rows.isEmpty ? "all requests" : "all", connect: connect_us, tls: tls_us, waiting: waiting_us,
                              receiving: receiving_us, connects: connects ?? 0))
        return rows
    }
}
