import Foundation
import Histogram
import Logging
import Messaging
@testable import Orchestrator
import StampedeModel
import StampedeWire
import Synchronization
import Testing

/// Live events as the feed would send them.
final class EventLog: Sendable {
    let lines = Mutex<[String]>([])
    func withLock<T>(_ body: (inout [String]) -> T) -> T { lines.withLock { body(&$0) } }
}

/// A clock the test sets: the test book's timing without waiting.
final class ManualClock: OrchestratorClock {
    let now = Mutex<(mono: UInt64, wall: Int64)>((1_000_000_000, 1_700_000_000_000))
    func monotonicNs() -> UInt64 { now.withLock { $0.mono } }
    func wallMs() -> Int64 { now.withLock { $0.wall } }
    func advance(ms: Int64) { now.withLock { $0.mono += UInt64(ms) * 1_000_000; $0.wall += ms } }
}

/// The test book in process, with a manual clock, the in-memory bus and a scratch reports
/// directory: typed errors, what it sends to drivers, what it announces, what it writes.
@Suite struct TestBookTests {
    let clock = ManualClock()
    let bus = InMemoryBus(topics: .stampede())
    let reports = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-book-\(UUID().uuidString)")
    let book: TestBook
    let sent: BusSubscription
    let events = EventLog()

    init() throws {
        sent = try bus.subscribe([.test_config, .trigger], from: .end)
        book = try Self.makeBook(clock: clock, bus: bus, reports: reports)
        book.onEvent = { [events] e in events.withLock { $0.append(e.json) } }
    }

    /// A test book on the bus and reports directory (a second one is an orchestrator restarted).
    static func makeBook(clock: ManualClock, bus: InMemoryBus, reports: URL) throws -> TestBook {
        TestBook(clock: clock, publisher: try bus.makePublisher(), reports: ReportStore(directory: reports),
                 log: Logger(label: "test"), startDelayMs: 1_000, allowedTargets: try TargetAllowList(["127.0.0.1"]))
    }

    func create(_ json: String) throws(TestBookError) -> TestRun { try book.create(json: Array(json.utf8)) }

    /// A driver's final message for `run`: `requests` sent and answered in 1 ms each, over 1 s.
    func final(_ run: TestRun, _ driver: String, _ requests: Int, part: Int? = nil, firstError: String? = nil,
               interrupted: Bool = false) -> FinalMessage {
        var m = FinalMessage(driverID: driver, testID: run.id, startedAtMs: run.startAtMs, durationS: 1, requests: requests,
                             responses: requests, errors: ErrorCounts(), bytesRead: 0,
                             histogram: histogram(Array(repeating: 1_000, count: requests)), serviceHistogram: nil,
                             firstError: firstError, interrupted: interrupted)
        m.part = part
        return m
    }

    func histogram(_ values: [Int64]) -> String {
        var h = HDRHistogram()
        for v in values { h.record(v) }
        return h.encodeBase64()
    }

    @Test func refusalsAreTyped() throws {
        #expect(throws: TestBookError.invalid(FieldError("connections", "must be in 1...100000, got 0"))) {
            _ = try create(#"{"target": "http://127.0.0.1/", "duration_s": 1, "connections": 0}"#)
        }
        #expect(throws: TestBookError.targetNotAllowed(host: "10.1.2.3")) {
            _ = try create(#"{"target": "http://10.1.2.3/", "duration_s": 1}"#)
        }
        _ = try create(#"{"test_id": "a", "target": "http://127.0.0.1/", "duration_s": 1, "drivers": 2}"#)
        #expect(throws: TestBookError.exists(testID: "a")) { _ = try create(#"{"test_id": "a", "target": "http://127.0.0.1/", "duration_s": 1}"#) }
        #expect(throws: TestBookError.notFound(testID: "b")) { _ = try book.trigger(id: "b", idle: ["d1"]) }
        #expect(throws: TestBookError.notEnoughDrivers(wanted: 2, idle: 1)) { _ = try book.trigger(id: "a", idle: ["d1"]) }
        #expect(throws: TestBookError.notEnoughDrivers(wanted: 1, idle: 0)) {
            _ = try create(#"{"test_id": "c", "target": "http://127.0.0.1/", "duration_s": 1}"#)
            _ = try book.trigger(id: "c", idle: [])
        }
        _ = try book.trigger(id: "a", idle: ["d1", "d2", "d3"])
        #expect(throws: TestBookError.alreadyTriggered(testID: "a", status: "running")) { _ = try book.trigger(id: "a", idle: ["d3"]) }
    }

    @Test func aTriggerSendsEachDriverItsShareToStartTogether() throws {
        _ = try create(#"{"test_id": "t", "test_type": "tsunami", "rate": 300, "target": "http://127.0.0.1/", "message_count_per_driver": 50}"#)
        let (run, chosen) = try book.trigger(id: "t", idle: ["d1", "d2", "d3"])
        #expect(chosen == ["d1", "d2", "d3"])
        #expect(run.startAtMs == clock.wallMs() + 1_000)
        let messages = try sent.pollMessages(timeoutMs: 100)
        guard messages.count == 2, case .testConfig(let config) = messages[0], case .trigger(let trigger) = messages[1] else {
            Issue.record("expected a config and a trigger, got \(messages)")
            return
        }
        #expect(config.driverIDs == chosen && trigger.driverIDs == chosen && trigger.startAtMs == run.startAtMs)
        // The total rate is split over the drivers; the count is per driver.
        #expect(config.config.rate == 100 && config.config.requests == 50)
        #expect(FileManager.default.fileExists(atPath: reports.appendingPathComponent("t/test.json").path))
    }

    @Test func secondsAreAnnouncedWhenEveryDriverSentThemAndTheReportIsMerged() throws {
        _ = try create(#"{"test_id": "m", "target": "http://127.0.0.1/", "message_count_per_driver": 3}"#)
        let (run, _) = try book.trigger(id: "m", idle: ["d1", "d2"])
        func interval(_ d: String, _ values: [Int64]) -> IntervalMessage {
            IntervalMessage(driverID: d, testID: "m", t: 1, requests: values.count, responses: values.count, errors: ErrorCounts(),
                            bytesRead: 0, histogram: histogram(values))
        }
        book.add(interval("d1", [100, 200, 300]))
        #expect(events.withLock { $0.filter { $0.contains(#""type":"interval""#) } }.isEmpty)
        clock.advance(ms: 1_500)
        func liveDuration() throws -> Double? {
            var body: [UInt8]?
            book.detailJSON(id: run.id) { body = $0 }  // inline: no other thread in this book
            let detail = try JSONSerialization.jsonObject(with: Data(try #require(body))) as? [String: Any]
            return (detail?["report"] as? [String: Any])?["duration_s"] as? Double
        }
        #expect(try liveDuration() == 0.5)  // live: from the start time to the clock
        clock.advance(ms: 300)
        #expect(try liveDuration() == 0.5)  // nothing new within a second: the answer built before
        book.add(interval("d2", [1_000, 2_000, 3_000]))
        #expect(try liveDuration() == 0.8)  // a driver's second arrived: built again
        let intervals = events.withLock { $0.filter { $0.contains(#""type":"interval""#) } }
        #expect(intervals.count == 1 && intervals[0].contains(#""drivers":2"#) && intervals[0].contains(#""requests":6"#))
        for (d, values) in [("d1", [Int64(100), 200, 300]), ("d2", [1_000, 2_000, 3_000])] {
            book.add(FinalMessage(driverID: d, testID: "m", startedAtMs: run.startAtMs, durationS: 1, requests: 3, responses: 3,
                                  errors: ErrorCounts(), bytesRead: 0, histogram: histogram(values), serviceHistogram: nil,
                                  firstError: nil, interrupted: false))
        }
        #expect(run.status == .done)
        let report = try #require(run.report)
        // Merged, not averaged: the median of all six values, the max of both.
        #expect(report.requests == 6 && report.latency_us.p50 == 300 && report.latency_us.max == 3_001)
        #expect(events.withLock { $0.last?.contains(#""type":"final""#) } == true)
        #expect(FileManager.default.fileExists(atPath: reports.appendingPathComponent("m/report.json").path))
    }

    @Test func aFailedDriversUnsentRequestsGoToTheSurvivorsOnTheClock() throws {
        _ = try create(#"{"test_id": "f", "target": "http://127.0.0.1/", "message_count_per_driver": 100}"#)
        let (run, _) = try book.trigger(id: "f", idle: ["d1", "d2"])
        _ = try sent.pollMessages(timeoutMs: 100)
        clock.advance(ms: 2_000)
        book.driverFailed("d2")
        #expect(run.failedDrivers == ["d2"] && run.redistributed.first?.to == ["d1": 100])
        let messages = try sent.pollMessages(timeoutMs: 100)
        guard case .trigger(let part)? = messages.last else { Issue.record("no part sent: \(messages)"); return }
        #expect(part.part == 2 && part.driverIDs == ["d1"] && part.startAtMs == clock.wallMs())
    }

    /// Every part handed over keeps the place of the share it continues, so `{{seq}}` stays unique
    /// when a survivor that took over work fails in turn.
    @Test func aHandedOverPartKeepsItsPlaceWhenItsNewDriverFailsToo() throws {
        _ = try create(#"{"test_id": "n", "target": "http://127.0.0.1/", "message_count_per_driver": 100}"#)
        let (run, _) = try book.trigger(id: "n", idle: ["d1", "d2", "d3"])
        _ = try sent.pollMessages(timeoutMs: 100)
        func sentSoFar(_ d: String, _ requests: Int, part: Int? = nil) {
            book.add(IntervalMessage(driverID: d, testID: "n", t: 1, requests: requests, responses: requests, errors: ErrorCounts(),
                                     bytesRead: 0, histogram: histogram(Array(repeating: 100, count: requests)), part: part))
        }
        func parts() throws -> [TestSpec] {
            try sent.pollMessages(timeoutMs: 100).compactMap { if case .testConfig(let c) = $0 { return c.config } else { return nil } }
        }
        // d2 (place 1) sent 40 of its 100: d1 and d3 each go on with 30, from position 40 and 70.
        sentSoFar("d1", 50)
        sentSoFar("d2", 40)
        sentSoFar("d3", 50)
        book.driverFailed("d2")
        let first = try parts()
        #expect(first.map { [$0.shard, $0.shards, $0.seq_start, $0.requests] } == [[1, 3, 40, 30], [1, 3, 70, 30]])
        // d1 fails having sent 50 of its own and 10 of d2's: its own go on at place 0 from 50,
        // d2's part at place 1 from 50 (not at d1's place, where they would repeat d1's numbers).
        sentSoFar("d1", 10, part: 2)
        book.driverFailed("d1")
        let second = try parts()
        #expect(second.map { [$0.shard, $0.shards, $0.seq_start, $0.requests] } == [[0, 3, 50, 50], [1, 3, 50, 20]])
        #expect(run.failedDrivers == ["d1", "d2"])
        // A restarted orchestrator reads the places back from test.json.
        let restored = try #require(ReportStore(directory: reports).loadTests { path, error in Issue.record("\(path): \(error)") }.first)
        func places(_ r: TestRun) -> [[Int]] { r.shares.sorted { $0.key < $1.key }.map { [$0.value.shard, $0.value.seqStart] } }
        #expect(places(restored) == places(run) && places(run).count == 7)
    }

    /// A search's next step starts every driver's `{{seq}}` numbers above all that earlier steps
    /// used (each step began again at 0), also when a driver has dropped out.
    @Test func aSearchStepNumbersAboveTheStepsBefore() throws {
        _ = try create(#"{"test_id": "s", "test_type": "SEARCH", "target": "http://127.0.0.1/", "slo": {"p99_ms": 50}, "step_s": 1, "start_rate": 100}"#)
        let (run, _) = try book.trigger(id: "s", idle: ["d1", "d2", "d3"])
        _ = try sent.pollMessages(timeoutMs: 100)
        func nextStep() throws -> TestSpec? {
            try sent.pollMessages(timeoutMs: 100).compactMap { if case .testConfig(let c) = $0 { return c.config } else { return nil } }.first
        }
        // Step 1, 3 drivers: d1 used numbers 0, 3, …, 3*33 = 99, d2 up to 1 + 3*33 = 100, d3 up to 2 + 3*32 = 98.
        book.add(final(run, "d1", 34))
        book.add(final(run, "d2", 34))
        book.add(final(run, "d3", 33))
        let second = try #require(try nextStep())
        // 3 drivers from position 34: 102, 103, 104, … (above 100).
        #expect(second.seq_start == 34 && second.shard == nil && run.nextFreeSequence == 101)
        // d3 drops out; step 2 (200 req/s) ends with 2 drivers: d1 used up to 0 + 3*(34 + 66) = 300.
        book.driverFailed("d3")
        book.add(final(run, "d1", 67, part: 2))
        book.add(final(run, "d2", 66, part: 2))
        let third = try #require(try nextStep())
        // 2 drivers from position 151: 302, 303, … (above 301).
        #expect(run.nextFreeSequence == 301 && third.seq_start == 151)
    }

    /// POST /tests/{id}/stop: one stop message to the drivers; a failure afterwards hands nothing
    /// over; the report says interrupted. Only a running test can be stopped.
    @Test func aStoppedTestTellsItsDriversOnceAndHandsNothingOver() throws {
        _ = try create(#"{"test_id": "x", "target": "http://127.0.0.1/", "message_count_per_driver": 1000}"#)
        #expect(throws: TestBookError.notRunning(testID: "x", status: "created")) { _ = try book.stop(id: "x") }
        #expect(throws: TestBookError.notFound(testID: "y")) { _ = try book.stop(id: "y") }
        let (run, _) = try book.trigger(id: "x", idle: ["d1", "d2"])
        _ = try sent.pollMessages(timeoutMs: 100)
        _ = try book.stop(id: "x")
        _ = try book.stop(id: "x")
        #expect(try sent.pollMessages(timeoutMs: 100) == [.stop(StopMessage(testID: "x"))])
        book.driverFailed("d2")
        #expect(try run.redistributed.isEmpty && sent.pollMessages(timeoutMs: 100).isEmpty)
        book.add(final(run, "d1", 40, firstError: "read from 127.0.0.1:1: Connection reset by peer", interrupted: true))
        #expect(run.status == .done && run.report?.interrupted == true && run.report?.requests == 40)
        #expect(run.report?.first_error == "read from 127.0.0.1:1: Connection reset by peer")
        #expect(throws: TestBookError.notRunning(testID: "x", status: "done")) { _ = try book.stop(id: "x") }
    }

    /// A capacity search goes on after an orchestrator restart: the steps judged before come back
    /// from test.json, and the step running meanwhile is judged once, at its own rate.
    @Test func aSearchGoesOnAfterARestart() throws {
        _ = try create(#"{"test_id": "r", "test_type": "SEARCH", "target": "http://127.0.0.1/", "slo": {"p99_ms": 50}, "step_s": 1, "start_rate": 100}"#)
        let (run, _) = try book.trigger(id: "r", idle: ["d1", "d2"])
        let stepOne = [final(run, "d1", 50), final(run, "d2", 50)]
        for m in stepOne { book.add(m) }
        _ = try sent.pollMessages(timeoutMs: 100)  // the trigger, then step 2 (200 req/s)
        // The orchestrator restarts while step 2 runs: a new test book from the same reports.
        let restarted = try Self.makeBook(clock: clock, bus: bus, reports: reports)
        restarted.restore(ReportStore(directory: reports).loadTests { path, error in Issue.record("\(path): \(error)") })
        let resumed = try #require(restarted["r"])
        #expect(resumed.search?.steps.map(\.rate) == [100] && resumed.searchPart == 2 && resumed.searchRate == 200)
        // Kafka hands it step 1's finals again, then step 2's: step 2 is judged, step 3 (400) sent.
        for m in stepOne + [final(run, "d1", 100, part: 2), final(run, "d2", 100, part: 2)] { restarted.add(m) }
        #expect(resumed.search?.steps.map(\.rate) == [100, 200], "\(resumed.search?.steps.map(\.rate) ?? [])")
        let next = try sent.pollMessages(timeoutMs: 100).compactMap { if case .testConfig(let c) = $0 { return c } else { return nil } }
        #expect(next.map(\.part) == [3] && next.first?.config.rate == 200, "\(next)")  // 400 req/s over 2 drivers
    }

    /// Thresholds are judged each second on the whole fleet's merged figures: /ws carries each
    /// one's state; one with abort_on_fail that fails (after its delay) stops every driver once,
    /// and the report says it was aborted (partial), keeping what was measured.
    @Test func aFailingThresholdWithAbortOnFailStopsTheTestOnce() throws {
        _ = try create(#"""
            {"test_id": "ab", "target": "http://127.0.0.1/", "duration_s": 60,
             "thresholds": {"p99_ms": 100, "error_rate": {"limit": 0.1, "abort_on_fail": true, "delay_abort_eval_s": 2}}}
            """#)
        let (run, _) = try book.trigger(id: "ab", idle: ["d1", "d2"])
        _ = try sent.pollMessages(timeoutMs: 100)
        func second(_ t: Int, _ d: String, requests: Int, failed: Int) -> IntervalMessage {
            var errors = ErrorCounts()
            errors.status_5xx = failed
            return IntervalMessage(driverID: d, testID: "ab", t: t, requests: requests, responses: requests, errors: errors,
                                   bytesRead: 0, histogram: histogram(Array(repeating: 1_000, count: requests)))
        }
        // Second 1: d1 fails 30 of 100 and d2 none: 15 % for the fleet, over the limit, but in
        // the first 2 s nothing aborts.
        book.add(second(1, "d1", requests: 100, failed: 30))
        book.add(second(1, "d2", requests: 100, failed: 0))
        #expect(try sent.pollMessages(timeoutMs: 50).isEmpty && run.aborted == nil)
        let first = try #require(events.withLock { $0.last { $0.contains(#""type":"interval""#) } })
        #expect(first.contains(#"{"limit":0.1,"name":"error_rate","state":"failing","value":0.15}"#), "\(first)")
        #expect(first.contains(#"{"limit":100,"name":"p99_ms","state":"ok","value":1}"#), "\(first)")
        // Second 2: 10 more failures in 200: 40 of 400, 10 %: at the limit, ok.
        book.add(second(2, "d1", requests: 100, failed: 10))
        book.add(second(2, "d2", requests: 100, failed: 0))
        #expect(try sent.pollMessages(timeoutMs: 50).isEmpty)
        // Second 3: 40 more in 200: 80 of 600, 13.3 %: past its delay, it aborts.
        book.add(second(3, "d1", requests: 100, failed: 40))
        book.add(second(3, "d2", requests: 100, failed: 0))
        #expect(try sent.pollMessages(timeoutMs: 100) == [.stop(StopMessage(testID: "ab"))])
        let abort = try #require(run.aborted)
        #expect(abort.threshold == "error_rate" && abort.at_s == 3 && abort.value == 0.133 && abort.limit == 0.1 && abort.scenario == "default")
        // Another failing second asks nothing more of the drivers.
        book.add(second(4, "d1", requests: 100, failed: 90))
        book.add(second(4, "d2", requests: 100, failed: 90))
        #expect(try sent.pollMessages(timeoutMs: 50).isEmpty)
        for d in ["d1", "d2"] { book.add(final(run, d, 400, interrupted: true)) }
        let report = try #require(run.report)
        #expect(report.aborted == abort && report.partial && report.interrupted == true && report.requests == 800)
        #expect(run.status == .done)
    }

    /// Seconds are encoded (and reports built) off the reactor thread: a driver's interval that
    /// arrives late for a second still being encoded is in `latency.hlog`'s line for it all the
    /// same, and the second's event goes out once the work comes back.
    @Test func aLateIntervalForASecondBeingEncodedIsInItsLogLine() throws {
        let jobs = Mutex<[@Sendable () -> Void]>([])
        book.offReactor = { job in jobs.withLock { $0.append(job) } }
        func runJobs() { while let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { job() } }
        _ = try create(#"{"test_id": "late", "target": "http://127.0.0.1/", "message_count_per_driver": 9}"#)
        let (run, _) = try book.trigger(id: "late", idle: ["d1", "d2"])
        func interval(_ d: String, _ t: Int, _ values: [Int64]) -> IntervalMessage {
            IntervalMessage(driverID: d, testID: "late", t: t, requests: values.count, responses: values.count, errors: ErrorCounts(),
                            bytesRead: 0, histogram: histogram(values))
        }
        func announced() -> Int { events.withLock { $0.filter { $0.contains(#""type":"interval""#) }.count } }
        book.add(interval("d1", 1, [100, 200]))
        book.add(interval("d1", 2, [100]))
        book.add(interval("d1", 3, [100]))  // two newer seconds: second 1 goes out without d2
        #expect(run.announced == 1 && run.encodingSeconds[1] != nil && announced() == 0)
        book.add(interval("d2", 1, [5_000]))  // late, while second 1 is encoded
        runJobs()
        #expect(run.encodingSeconds.isEmpty && announced() == 1)
        let line = try HDRHistogram(base64: try #require(run.compactIntervals[1]).encoded)
        #expect(line.totalCount == 3 && line.max >= 5_000)
        // The seconds after it go out as usual, in order.
        book.add(interval("d2", 2, [7_000]))
        book.add(interval("d2", 3, [100]))
        runJobs()
        let second = try HDRHistogram(base64: try #require(run.compactIntervals[2]).encoded)
        #expect(run.announced == 3 && second.totalCount == 2 && announced() == 3)
        #expect(events.withLock { $0.filter { $0.contains(#""type":"interval""#) }.map { $0.contains(#""t":1,"#) } } == [true, false, false])
    }
}
