import Histogram
import StampedeModel

/// What one worker measured: the second under way, and everything it published before. Plain
/// values on the worker's thread; a second's figures leave as an `IntervalSample`.
struct WorkerFigures {
    /// Counters of the seconds already published; the current second counts in `interval` and
    /// is folded in when it is published.
    var published = LoadCounters()
    var interval = LoadCounters()
    /// Latency from the intended send time (equal to service time in avalanche), in all and this second.
    var latency = HDRHistogram()
    var intervalLatency = HDRHistogram()
    /// Uncorrected service time: from the actual write to the response's end (tsunami).
    var serviceTime = HDRHistogram()
    /// A list of requests: this second's figures and the published ones, per name.
    var nameInterval: [NamedFigures]
    var nameTotals: [NamedFigures]
    /// Sessions' durations: this second's, and the published ones.
    var sessionInterval = SessionHistograms()
    var sessionTotals = SessionHistograms()
    /// Seconds published so far.
    var intervalIndex = 0
    /// The run's first error, and the first response that failed its checks, in words.
    var firstError: String?
    var firstCheckFailure: String?
    /// Sockets open now and at most (a test with several origins opens one per origin a
    /// connection needs).
    var openSockets = 0
    var peakSockets = 0
    /// When the measured schedule actually began on this worker (monotonic ns; 0: never).
    var beganAt: UInt64 = 0

    init(names: [String]) {
        nameInterval = names.map { NamedFigures(name: $0) }
        nameTotals = nameInterval
    }

    /// Everything counted so far.
    var totals: LoadCounters { published + interval }

    /// Keeps the run's first error text (built only then: failures can come by the thousand).
    mutating func noteFirstError(_ text: @autoclosure () -> String) {
        if firstError == nil { firstError = text() }
    }

    mutating func socketOpened() {
        openSockets += 1
        if openSockets > peakSockets { peakSockets = openSockets }
    }

    /// The second just ended, as a sample for the coordinating thread; its figures are folded
    /// into the totals and the second starts again from zero.
    mutating func takeInterval(thread: Int, final: Bool, sessions: Bool) -> IntervalSample {
        intervalIndex += 1
        let sample = IntervalSample(thread: thread, index: intervalIndex, final: final, counters: interval, latency: intervalLatency,
                                    byName: nameInterval, connections: openSockets, sessions: sessions ? sessionInterval : nil)
        published = published + interval
        interval = LoadCounters()
        intervalLatency.reset()
        for k in nameInterval.indices {
            do { try nameTotals[k].add(nameInterval[k]) } catch { noteFirstError("per-name histogram: \(error)") }
            nameInterval[k].counters = LoadCounters()
            nameInterval[k].latency.reset()
        }
        if sessions {
            do { try sessionTotals.add(sessionInterval) } catch { noteFirstError("session histogram: \(error)") }
            sessionInterval.reset()
        }
        return sample
    }
}
