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

    /// Each phase's histogram with its report name (`connect_us`, ...).
    public var named: [(name: String, histogram: HDRHistogram)] {
        [("connect_us", connect), ("tls_us", tls), ("waiting_us", waiting), ("receiving_us", receiving)]
    }

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

/// The timings in a report (the whole test's, a name's, a scenario's): each phase's percentiles
/// (absent when nothing was measured: `tls_us` of a plain-HTTP test, `connect_us` when no
/// connection was opened), and how many connections and handshakes were timed.
public struct TimingsSummary: Sendable, Equatable {
    public var connect_us: LatencySummary?
    public var tls_us: LatencySummary?
    public var waiting_us: LatencySummary?
    public var receiving_us: LatencySummary?
    public var connects: Int?
    public var tls_handshakes: Int?

    public init(_ t: Timings) {
        func summary(_ h: HDRHistogram) -> LatencySummary? { h.totalCount > 0 ? LatencySummary(h) : nil }
        connect_us = summary(t.connect)
        tls_us = summary(t.tls)
        waiting_us = summary(t.waiting)
        receiving_us = summary(t.receiving)
        connects = Int(t.connect.totalCount)
        tls_handshakes = t.tls.totalCount > 0 ? Int(t.tls.totalCount) : nil
    }
}
