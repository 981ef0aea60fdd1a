import Histogram

/// What a run measured, over any span (a second, a thread's or a driver's share, a whole test)
/// and any number of threads or drivers: its counters, its latency, the uncorrected service time
/// (tsunami), the same figures per request name, and the sessions' durations. Figures add
/// exactly: counters sum (checked: a sum that does not fit throws and adds nothing), histograms
/// merge. The one type workers, a run, a driver and the orchestrator hand each other; the bus
/// carries it as a metrics message's fields (`CountersMessage.carry`).
public struct Figures: Sendable {
    public var counters = LoadCounters()
    /// From the intended send time (tsunami) or the send (avalanche), µs.
    public var latency = HDRHistogram()
    /// Tsunami: from the actual send, not corrected for coordinated omission; nil otherwise.
    public var serviceTime: HDRHistogram?
    /// A list of requests: the same per name.
    public var byName = FiguresByName()
    /// `order: sequence`: the sessions' durations (their counts are in `counters.sessions`).
    public var sessions: SessionHistograms?
    /// Where the requests' time went: connect, TLS, waiting, receiving.
    public var timings = Timings()

    public init(counters: LoadCounters = LoadCounters(), latency: HDRHistogram = HDRHistogram(), serviceTime: HDRHistogram? = nil,
                byName: FiguresByName = FiguresByName(), sessions: SessionHistograms? = nil, timings: Timings = Timings()) {
        self.counters = counters; self.latency = latency; self.serviceTime = serviceTime
        self.byName = byName; self.sessions = sessions; self.timings = timings
    }

    /// Adds `other`. `includingLatency: false` leaves the latency out (a caller that keeps the
    /// sum of every latency itself).
    public mutating func add(_ other: Figures, includingLatency: Bool = true) throws {
        let sum = try counters.adding(other.counters)
        if includingLatency { try latency.add(other.latency) }
        if let s = other.serviceTime { try addServiceTime(s) }
        try byName.add(other.byName)
        if let s = other.sessions { try addSessions(s) }
        try timings.add(other.timings)
        counters = sum
    }

    /// Adds figures decoded from a message (sparse histograms: only non-zero counters touched).
    public mutating func add(_ other: DecodedFigures, includingLatency: Bool = true) throws {
        let sum = try counters.adding(other.counters)
        if includingLatency { try latency.add(other.latency) }
        if let s = other.serviceTime {
            if serviceTime == nil { serviceTime = HDRHistogram() }
            try serviceTime!.add(s)
        }
        for e in other.byName { try byName.add(name: e.name, counters: e.counters, latency: e.latency, timings: e.timings) }
        if let s = other.sessions { try addSessions(s) }
        if let t = other.timings { try timings.add(t) }
        counters = sum
    }

    /// Throws when `other`'s counters would not fit (nothing is added then).
    public func checkAddable(_ other: DecodedFigures) throws {
        _ = try counters.adding(other.counters)
    }

    private mutating func addServiceTime(_ h: HDRHistogram) throws {
        if serviceTime == nil { serviceTime = h } else { try serviceTime!.add(h) }
    }

    private mutating func addSessions(_ h: SessionHistograms) throws {
        if sessions == nil { sessions = h } else { try sessions!.add(h) }
    }
}

/// Figures per request name, in the order names were first added, found by name at once.
public struct FiguresByName: Sendable {
    /// Kept where inlined code reaches it: a worker changes an entry in place on every request.
    @usableFromInline var storage: [NamedFigures] = []
    private var positions: [String: Int] = [:]

    public var entries: [NamedFigures] { storage }

    public init(_ entries: [NamedFigures] = []) {
        for e in entries { append(e) }
    }

    /// Empty figures for each name, in this order (a worker's, indexed by the list's positions).
    public init(names: [String]) {
        self.init(names.map { NamedFigures(name: $0) })
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }
    public var names: [String] { entries.map(\.name) }

    /// The entry at `position` (changed in place: no copy of its histogram; inlined into the
    /// worker's request path, where a call through another module's accessor cost about 600
    /// instructions per request of a session journey).
    @inlinable
    public subscript(position k: Int) -> NamedFigures {
        get { storage[k] }
        _modify { yield &storage[k] }
    }

    /// Each name's figures, sorted by name.
    public var sortedByName: [NamedFigures] { entries.sorted { $0.name < $1.name } }

    public mutating func add(_ other: FiguresByName) throws {
        if entries.isEmpty {
            self = other
            return
        }
        for e in other.entries {
            if let k = positions[e.name] { try storage[k].add(e) } else { append(e) }
        }
    }

    public mutating func add(name: String, counters: LoadCounters, latency: SparseCounts, timings: DecodedTimings? = nil) throws {
        if positions[name] == nil { append(NamedFigures(name: name)) }
        let k = positions[name]!
        storage[k].counters += counters
        try storage[k].latency.add(latency)
        if let timings { try storage[k].timings.add(timings) }
    }

    private mutating func append(_ e: NamedFigures) {
        positions[e.name] = storage.count
        storage.append(e)
    }
}

/// Figures as a message carries them, decoded once: sparse histograms, each checked for the
/// latency layout, so adding them touches only their non-zero counters and a bad message is
/// refused before anything of it is counted.
public struct DecodedFigures: Sendable {
    public let counters: LoadCounters
    public let latency: SparseCounts
    public let serviceTime: SparseCounts?
    public let byName: [DecodedName]
    public let sessions: SessionHistograms?
    public let timings: DecodedTimings?

    /// A name's figures from a message (its timings absent from a driver that sent none).
    public typealias DecodedName = (name: String, counters: LoadCounters, latency: SparseCounts, timings: DecodedTimings?)

    public init(counters: LoadCounters, latency: SparseCounts, serviceTime: SparseCounts? = nil,
                byName: [DecodedName] = [], sessions: SessionHistograms? = nil, timings: DecodedTimings? = nil) throws {
        for layout in [latency.layout] + byName.map(\.latency.layout) + (serviceTime.map { [$0.layout] } ?? []) where layout != .latency {
            throw HistogramError.layoutMismatch(.latency, layout)
        }
        self.counters = counters; self.latency = latency; self.serviceTime = serviceTime
        self.byName = byName; self.sessions = sessions; self.timings = timings
    }
}
