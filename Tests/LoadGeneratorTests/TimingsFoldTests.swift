import Histogram
@testable import LoadGenerator
import StampedeModel
import Testing

/// A worker's second: responses whose waiting is their latency are only counted, the others
/// recorded; at the second's end the waiting histogram is exactly what recording every
/// response's waiting would have given.
@Suite struct TimingsFoldTests {
    @Test func countedResponsesFoldIntoExactlyTheRecordedHistogram() throws {
        var figures = WorkerFigures(names: [], sessions: false, serviceTime: false)
        var expectedWaiting = HDRHistogram(), expectedReceiving = HDRHistogram()
        // Counted: read in one go, written when intended (waiting = latency, receiving 0).
        for latency in [120, 120, 450, 9_000, 31_000] as [Int64] {
            figures.second.latency.record(latency)
            figures.waitingIsLatency += 1
            expectedWaiting.record(latency); expectedReceiving.record(0)
        }
        // Recorded: a paced request sent late, a response read in several reads.
        for (latency, waiting, receiving) in [(5_000, 700, 0), (120, 80, 40), (260_000, 1_000, 259_000)] as [(Int64, Int64, Int64)] {
            figures.second.latency.record(latency)
            figures.latencyOfOthers.record(latency)
            figures.second.timings.waiting.record(waiting)
            figures.second.timings.receiving.record(receiving)
            expectedWaiting.record(waiting); expectedReceiving.record(receiving)
        }
        let sample = figures.takeInterval(worker: 0, scenario: 0, final: false)
        #expect(sample.figures.timings.waiting == expectedWaiting && sample.figures.timings.waiting.totalCount == 8)
        #expect(sample.figures.timings.receiving == expectedReceiving)
        #expect(figures.firstError == nil && figures.waitingIsLatency == 0 && figures.latencyOfOthers.totalCount == 0)
        // The next second starts empty, and a second of counted responses only shares latency's counters.
        figures.second.latency.record(333)
        figures.waitingIsLatency += 1
        let next = figures.takeInterval(worker: 0, scenario: 0, final: true)
        #expect(next.figures.timings.waiting == next.figures.latency && next.figures.timings.waiting.totalCount == 1)
        #expect(figures.published.timings.waiting.totalCount == 9 && figures.published.timings.receiving.count(at: 0) == 7)
    }
}
