import Foundation
import Histogram
import Messaging
@testable import Orchestrator
import StampedeModel
import StampedeWire
import Testing

/// A test's bookkeeping in the orchestrator, fed with messages directly: shares, failed drivers,
/// handed-over parts, redelivered messages.
@Suite struct TestRunTests {
    func definition(_ json: String) throws -> TestConfig {
        try TestConfig(json: Array(json.utf8)) { "generated" }
    }

    func histogram(_ values: [Int64]) -> String {
        var h = HDRHistogram()
        for v in values { h.record(v) }
        return h.encodeBase64()
    }

    func interval(_ driver: String, t: Int, requests: Int, part: Int? = nil) -> IntervalMessage {
        IntervalMessage(driverID: driver, testID: "r", t: t, requests: requests, responses: requests, errors: ErrorCounts(),
                        bytesRead: 0, histogram: histogram(Array(repeating: 1_000, count: requests)), part: part)
    }

    func final(_ driver: String, requests: Int, part: Int? = nil) -> FinalMessage {
        var f = FinalMessage(driverID: driver, testID: "r", startedAtMs: 1_000, durationS: 1, requests: requests, responses: requests,
                             errors: ErrorCounts(), bytesRead: 0, histogram: histogram(Array(repeating: 2_000, count: requests)),
                             serviceHistogram: nil, firstError: nil, interrupted: false)
        f.part = part
        return f
    }

    @Test func aFailedDriversUnsentRequestsAreWhatItDidNotReport() throws {
        let run = TestRun(createdAtMs: 0, definition: try definition(#"{"test_id": "r", "target": "http://127.0.0.1/", "message_count_per_driver": 100}"#))
        run.triggered(drivers: ["d1", "d2", "d3"], startAtMs: 1_000, refused: [:], atMs: 0)
        try run.add(interval("d2", t: 1, requests: 30))
        try run.add(interval("d2", t: 2, requests: 10))
        try run.add(interval("d2", t: 2, requests: 10))  // redelivered: counts once
        run.driverFailed("d2")
        #expect(run.unsent(by: "d2").map(\.requests) == [60])
        try run.add(interval("d2", t: 3, requests: 25))  // from a driver already failed: ignored
        #expect(run.unsent(by: "d2").map(\.requests) == [60])
        // Handed over as part 2 to d1 and part 3 to d3.
        run.sent(Share(driver: "d1", part: 2), ShareWork(requests: 30, startAtMs: 3_000, shard: 1, shards: 3, seqStart: 40))
        run.sent(Share(driver: "d3", part: 3), ShareWork(requests: 30, startAtMs: 3_000, shard: 1, shards: 3, seqStart: 70))
        run.add(final("d1", requests: 100))
        run.add(final("d3", requests: 100))
        run.add(final("d1", requests: 30, part: 2))
        #expect(!run.isComplete && run.pending == [Share(driver: "d3", part: 3)])
        run.add(final("d3", requests: 30, part: 3))
        #expect(run.isComplete)
        let (report, latency) = try run.buildReport(nowMs: 0)
        // The full count: the survivors' shares, the parts they took over, and what d2 reported.
        #expect(report.requests == 300 && latency.totalCount == 300)
        #expect(report.partial && report.failed_drivers == ["d2"])
    }

    @Test func handedOverSecondsLandOnTheTestsClock() throws {
        let run = TestRun(createdAtMs: 0, definition: try definition(#"{"test_id": "r", "target": "http://127.0.0.1/", "message_count_per_driver": 100}"#))
        run.triggered(drivers: ["d1"], startAtMs: 10_000, refused: [:], atMs: 0)
        run.sent(Share(driver: "d1", part: 2), ShareWork(requests: 10, startAtMs: 15_000, shard: 0, shards: 1, seqStart: 100))
        try run.add(interval("d1", t: 1, requests: 10, part: 2))
        #expect(run.intervals[6]?.figures.counters.requests == 10)
    }

    /// A test's report is built off the reactor thread from a frozen copy: every stored property
    /// copied (a new one left out of `frozenCopy` shows here as a difference), and what `end` does
    /// to the copy reaches the run only through `adopt`.
    @Test func aFrozenCopyHoldsEveryPropertyAndEndsApart() throws {
        let run = TestRun(createdAtMs: 7, definition: try definition(#"{"test_id": "r", "target": "http://127.0.0.1/", "message_count_per_driver": 100}"#))
        run.triggered(drivers: ["d1", "d2"], startAtMs: 1_000, refused: ["d9": "clock"], atMs: 5)
        run.usedClockOffsets(["d1": 1.5])
        try run.add(interval("d1", t: 1, requests: 30))
        try run.add(interval("d2", t: 1, requests: 20))
        try run.add(interval("d1", t: 2, requests: 30))
        _ = run.intervalsReady()
        run.driverFailed("d2")
        run.handedOver(Redistribution(from: "d2", requests: 80, to: ["d1": 80]))
        run.sent(Share(driver: "d1", part: 2), ShareWork(requests: 80, startAtMs: 3_000, shard: 1, shards: 2, seqStart: 20))
        run.add(final("d1", requests: 100))
        run.add(final("d1", requests: 80, part: 2))
        _ = run.stopRequested(atMs: 9)
        run.concluding = true
        let copy = run.frozenCopy()
        let original = Mirror(reflecting: run).children, copied = Mirror(reflecting: copy).children
        #expect(original.count == copied.count && original.count > 30)
        for (a, b) in zip(original, copied) {
            #expect(a.label == b.label && String(describing: a.value) == String(describing: b.value), "\(a.label ?? "?") differs in the copy")
        }
        let (report, _) = try copy.end(nowMs: 10_000)
        #expect(copy.status == .done && run.status == .running && run.report == nil)
        #expect(run.adopt(copy.ended) == false)
        #expect(run.status == .done && !run.concluding && run.report?.requests == report.requests && report.requests == 200)
    }
}
