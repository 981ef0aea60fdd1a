import Histogram

/// Figures summed from decoded messages and kept sparse: what one driver's share of a test has
/// reported so far. The orchestrator keeps one per share (and per scenario) for the whole test,
/// for a driver that fails before its final (its reported seconds stay in the report); dense
/// `Figures` there made every scattered value resident as a page of its own (100 drivers x 20
/// names x 3 scenarios: 835 MiB after ten seconds). Added into `Figures` as `decoded`.
public struct SparseFigures: Sendable {
    public private(set) var counters = LoadCounters()
    private var latency = SparseCounts(layout: .latency)
    private var serviceTime: SparseCounts?
    private var names: [SparseName] = []
    private var positions: [String: Int] = [:]
    /// Sessions' durations: three histograms a share, kept dense.
    private var sessions: SessionHistograms?
    private var timings: SparseTimings?

    public init(counters: LoadCounters = LoadCounters()) {
        self.counters = counters
    }

    /// Adds a message's figures; counters that would not fit throw and add nothing (as `Figures`).
    public mutating func add(_ other: DecodedFigures) throws {
        let sum = try counters.adding(other.counters)
        try latency.add(other.latency)
        if let s = other.serviceTime {
            if serviceTime == nil { serviceTime = SparseCounts(layout: s.layout) }
            try serviceTime!.add(s)
        }
        for e in other.byName {
            if positions[e.name] == nil {
                positions[e.name] = names.count
                names.append(SparseName(name: e.name))
            }
            let k = positions[e.name]!
            names[k].counters += e.counters
            try names[k].latency.add(e.latency)
            if let t = e.timings { try names[k].timings.add(t) }
        }
        if let s = other.sessions {
            if sessions == nil { sessions = s } else { try sessions!.add(s) }
        }
        if let t = other.timings {
            if timings == nil { timings = SparseTimings() }
            try timings!.add(t)
        }
        counters = sum
    }

    /// Throws when `other`'s counters would not fit (nothing is added then).
    public func checkAddable(_ other: DecodedFigures) throws {
        _ = try counters.adding(other.counters)
    }

    /// The sum as decoded figures, to add into `Figures` (the lists are shared, not copied).
    public var decoded: DecodedFigures {
        get throws {
            try DecodedFigures(counters: counters, latency: latency, serviceTime: serviceTime,
                               byName: try names.map { ($0.name, $0.counters, $0.latency, try $0.timings.decoded) },
                               sessions: sessions, timings: try timings?.decoded)
        }
    }
}

/// A name's share of `SparseFigures`.
private struct SparseName {
    let name: String
    var counters = LoadCounters()
    var latency = SparseCounts(layout: .latency)
    var timings = SparseTimings()

    init(name: String) { self.name = name }
}

/// The four timing histograms, sparse (see `Timings`).
private struct SparseTimings {
    var connect: SparseCounts?
    var tls: SparseCounts?
    var waiting: SparseCounts?
    var receiving: SparseCounts?

    mutating func add(_ other: DecodedTimings) throws {
        try Self.add(other.connect, to: &connect)
        try Self.add(other.tls, to: &tls)
        try Self.add(other.waiting, to: &waiting)
        try Self.add(other.receiving, to: &receiving)
    }

    private static func add(_ more: SparseCounts?, to mine: inout SparseCounts?) throws {
        guard let more else { return }
        if mine == nil { mine = SparseCounts(layout: more.layout) }
        try mine!.add(more)
    }

    var decoded: DecodedTimings {
        get throws { try DecodedTimings(connect: connect, tls: tls, waiting: waiting, receiving: receiving) }
    }
}
