import Histogram
import StampedeModel

/// One worker's measurements: the second under way and everything published before it, each a
/// `Figures`, and what only a worker knows (its sockets, its first error). Plain values on the
/// worker's thread; a second leaves as an `IntervalSample`.
struct WorkerFigures {
    /// The seconds already published, and the second under way. A latency is recorded once, in
    /// `second`, and each second is added into `published` as it leaves; the service time
    /// (tsunami) is recorded in `published` directly (no second needs it).
    var published: Figures
    var second: Figures
    /// Seconds published so far.
    var intervalIndex = 0
    /// The run's first error, and the first response that failed its checks, in words.
    var firstError: String?
    var firstCheckFailure: String?
    /// Sockets open now and at most (a test with several origins opens one per origin a
    /// connection needs).
    var openSockets = 0
    var peakSockets = 0
    /// The second's responses whose waiting equals their latency and whose receiving is 0 (read
    /// in one go, written at their intended time): counted, not recorded; and the latencies of
    /// the others, whose timings are recorded. The second's latency less those is the counted
    /// ones' waiting (`foldTimings`).
    var waitingIsLatency: Int64 = 0
    var latencyOfOthers = HDRHistogram()
    /// The same for each name (a list of requests), by its position.
    var namesWaitingIsLatency: [Int64]
    var namesLatencyOfOthers: [HDRHistogram]
    /// When the measured schedule actually began on this worker (monotonic ns; 0: never).
    var beganAt: UInt64 = 0
    /// When it finished (its sockets closed; 0: not yet).
    var endedAt: UInt64 = 0

    /// - Parameters:
    ///   - names: a list of requests' names (empty: figures are not kept per name).
    ///   - sessions: the run has sessions; `serviceTime`: it is a tsunami.
    init(names: [String], sessions: Bool, serviceTime: Bool) {
        second = Figures(byName: FiguresByName(names: names), sessions: sessions ? SessionHistograms() : nil)
        namesWaitingIsLatency = Array(repeating: 0, count: names.count)
        namesLatencyOfOthers = Array(repeating: HDRHistogram(), count: names.count)
        published = second
        published.serviceTime = serviceTime ? HDRHistogram() : nil
    }

    /// Everything counted so far.
    var totals: LoadCounters { published.counters + second.counters }

    /// Keeps the run's first error text (built only then: failures can come by the thousand).
    mutating func noteFirstError(_ text: @autoclosure () -> String) {
        if firstError == nil { firstError = text() }
    }

    mutating func socketOpened() {
        openSockets += 1
        if openSockets > peakSockets { peakSockets = openSockets }
    }

    /// The counted responses' timings into the second's, in total and per name: their waiting
    /// is the latency histogram less the others' latencies (exact: each latency was recorded in
    /// both), their receiving 0.
    mutating func foldTimings() {
        if waitingIsLatency > 0 {
            do { try Self.fold(waitingIsLatency, latency: second.latency, others: latencyOfOthers, into: &second.timings) } catch {
                noteFirstError("timings of a second: \(error)")
            }
        }
        // Each second starts afresh, whatever it held (a second of recorded responses only too).
        waitingIsLatency = 0
        if latencyOfOthers.totalCount > 0 { latencyOfOthers = HDRHistogram() }
        for n in namesWaitingIsLatency.indices where namesWaitingIsLatency[n] > 0 || namesLatencyOfOthers[n].totalCount > 0 {
            if namesWaitingIsLatency[n] > 0 {
                do {
                    try Self.fold(namesWaitingIsLatency[n], latency: second.byName[position: n].latency, others: namesLatencyOfOthers[n],
                                  into: &second.byName[position: n].timings)
                } catch {
                    let name = second.byName[position: n].name
                    noteFirstError("timings of a second of \(name): \(error)")
                }
            }
            namesWaitingIsLatency[n] = 0
            namesLatencyOfOthers[n] = HDRHistogram()
        }
    }

    private static func fold(_ counted: Int64, latency: HDRHistogram, others: HDRHistogram, into timings: inout Timings) throws {
        timings.receiving.record(0, count: counted)
        if others.totalCount == 0 && timings.waiting.totalCount == 0 {
            // Every response counted (the usual second): the waiting histogram is the latency's
            // (shared, copy-on-write: nothing copied).
            timings.waiting = latency
            return
        }
        var waiting = latency
        try waiting.subtract(others)
        try timings.waiting.add(waiting)
    }

    /// The second just ended, as a sample for the coordinating thread; it is added into
    /// `published` and the next second starts from zero (the same names).
    mutating func takeInterval(worker: Int, scenario: Int, final: Bool) -> IntervalSample {
        intervalIndex += 1
        foldTimings()
        let sample = IntervalSample(worker: worker, scenario: scenario, index: intervalIndex, final: final, figures: second,
                                    connections: openSockets)
        do { try published.add(second) } catch { noteFirstError("adding a second's figures: \(error)") }
        second.counters = LoadCounters()
        second.latency = HDRHistogram()
        second.timings = Timings()
        second.byName = FiguresByName(names: second.byName.names)
        if second.sessions != nil { second.sessions = SessionHistograms() }
        return sample
    }
}
