import Foundation
import Histogram
import Messaging
@testable import Orchestrator
import StampedeModel
import StampedeWire
import Testing

/// Steering in the test book, in memory: what a change sends to drivers, what it refuses and
/// why, and what the report says.
@Suite struct SteeringBookTests {
    let clock = ManualClock()
    let bus = InMemoryBus(topics: .stampede())
    let reports = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-steer-\(UUID().uuidString)")
    let book: TestBook
    let sent: BusSubscription
    let events = EventLog()

    init() throws {
        sent = try bus.subscribe([.trigger], from: .end)
        book = try TestBookTests.makeBook(clock: clock, bus: bus, reports: reports)
        book.onEvent = { [events] e in events.withLock { $0.append(e.json) } }
        book.clockOffsetMs = { $0 == "d2" ? 40 : nil }
    }

    func running(_ json: String, drivers: [String] = ["d1", "d2"]) throws -> TestRun {
        let run = try book.create(json: Array(json.utf8))
        _ = try book.trigger(id: run.id, idle: drivers)
        _ = try sent.pollMessages(timeoutMs: 10)
        clock.advance(ms: 2_000)
        return run
    }

    func changes() throws -> [ChangeMessage] {
        try sent.pollMessages(timeoutMs: 10).compactMap { if case .change(let m) = $0 { m } else { nil } }
    }

    func patch(_ id: String, _ body: String) throws(TestBookError) -> [ChangeRecord] { try book.change(id: id, body: Array(body.utf8)) }

    @Test func aRateChangeGoesToEveryDriverSplitWithOneInstantOnEachClock() throws {
        let run = try running(#"{"test_id": "t", "test_type": "TSUNAMI", "target": "http://127.0.0.1/", "rate": 400, "duration_s": 15}"#)
        let records = try patch("t", #"{"rate": 1000}"#)
        #expect(records == [ChangeRecord(seq: 1, at_s: 1.3, scenario: "default", field: "rate", from: .number(400), to: .number(1_000))])
        let m = try #require(try changes().first)
        #expect(m.driverIDs == ["d1", "d2"] && m.field == "rate" && m.scenario == "default" && m.seq == 1)
        #expect(m.valueByDriver == ["d1": 500, "d2": 500])
        #expect(m.applyAtMs == clock.wallMs() + 300)
        #expect(m.applyAtMs(for: "d2") == m.applyAtMs + 40 && m.applyAtMs(for: "d1") == m.applyAtMs)
        #expect(events.withLock { $0.last ?? "" }.contains(#""type":"change""#))
        clock.advance(ms: 1_000)
        _ = try patch("t", #"{"rate": 200}"#)
        #expect(run.steering.changes.map(\.from) == [.number(400), .number(1_000)])
    }

    @Test func changesTheModelDoesNotHaveAreRefusedNamingTheField() throws {
        _ = try running(#"{"test_id": "a", "target": "http://127.0.0.1/", "connections": 10, "duration_s": 15}"#)
        #expect(throws: TestBookError.invalid(FieldError("rate", "an avalanche has no rate: change connections (its users)"))) { _ = try patch("a", #"{"rate": 5}"#) }
        #expect(throws: TestBookError.invalid(FieldError("connections", "must be a whole number in 1...40 per driver (max_connections), got 41.0"))) {
            _ = try patch("a", #"{"connections": 41}"#)
        }
        #expect(throws: TestBookError.invalid(FieldError("timeout_ms", "cannot be changed while a test runs (rate, connections, session_rate can)"))) {
            _ = try patch("a", #"{"timeout_ms": 5}"#)
        }
        #expect(throws: TestBookError.invalid(FieldError("connections", "must be a number, not a string"))) { _ = try patch("a", #"{"connections": "x"}"#) }
        let records = try patch("a", #"{"connections": 40}"#)
        #expect(records.first?.to == .number(40))
        #expect(try changes().first?.valueByDriver == ["d1": 40, "d2": 40])  // connections are per driver, as in a TestConfig
        #expect(throws: TestBookError.notFound(testID: "nope")) { _ = try patch("nope", #"{"rate": 5}"#) }
    }

    @Test func aTestNotRunningIsA409() throws {
        _ = try book.create(json: Array(#"{"test_id": "c", "target": "http://127.0.0.1/", "duration_s": 15}"#.utf8))
        #expect(throws: TestBookError.notRunning(testID: "c", status: "created")) { _ = try patch("c", #"{"connections": 5}"#) }
        #expect(throws: TestBookError.notRunning(testID: "c", status: "created")) { _ = try book.pause(id: "c", paused: true) }
    }

    @Test func scenariosAreChangedByNameAndPauseReachesEveryOne() throws {
        let run = try running(#"""
            {"test_id": "s", "scenarios": {
              "browse": {"target": "http://127.0.0.1/", "connections": 4, "duration_s": 20},
              "buy": {"target": "http://127.0.0.1/buy", "test_type": "TSUNAMI", "rate": 100, "duration_s": 20}}}
            """#)
        #expect(throws: TestBookError.invalid(FieldError("rate", "this test has scenarios: give {\"scenarios\": {\"browse\": {...}}}"))) {
            _ = try patch("s", #"{"rate": 5}"#)
        }
        #expect(throws: TestBookError.invalid(FieldError("scenarios.buy.connections", "a tsunami's load is its rate: change rate (or session_rate)"))) {
            _ = try patch("s", #"{"scenarios": {"buy": {"connections": 5}}}"#)
        }
        #expect(throws: TestBookError.invalid(FieldError("scenarios.sell", "no such scenario (this test has browse, buy)"))) {
            _ = try patch("s", #"{"scenarios": {"sell": {"rate": 5}}}"#)
        }
        let records = try patch("s", #"{"scenarios": {"buy": {"rate": 300}, "browse": {"connections": 8}}}"#)
        #expect(records.map(\.scenario) == ["browse", "buy"])
        #expect(try changes().map(\.valueByDriver) == [["d1": 8, "d2": 8], ["d1": 150, "d2": 150]])
        let paused = try book.pause(id: "s", paused: true)
        #expect(paused.map(\.field) == ["paused", "paused"] && paused.map(\.to) == [.flag(true), .flag(true)])
        #expect(try changes().map(\.field) == ["pause", "pause"])
        #expect(throws: TestBookError.invalid(FieldError("test_id", "test s is already paused", status: 409))) { _ = try book.pause(id: "s", paused: true) }
        clock.advance(ms: 3_000)
        _ = try book.pause(id: "s", paused: false)
        #expect(run.steering.pausedSeconds(untilS: 100) == 3)
        #expect(run.steering.isPaused(second: 2) && run.steering.isPaused(second: 4) && !run.steering.isPaused(second: 6))
    }

    /// A driver that applied a change after its instant says so in its final message; the
    /// report names it under `late_changes`.
    @Test func aLateChangeIsNamedInTheReport() throws {
        let run = try running(#"{"test_id": "l", "test_type": "TSUNAMI", "target": "http://127.0.0.1/", "rate": 100, "duration_s": 10}"#)
        _ = try patch("l", #"{"rate": 300}"#)
        for (driver, late) in [("d1", [LateChange(seq: 1, late_ms: 850.5)]), ("d2", nil)] {
            var m = FinalMessage(driverID: driver, testID: "l", startedAtMs: run.startAtMs, durationS: 10, requests: 10, responses: 10,
                                 errors: ErrorCounts(), bytesRead: 0, histogram: HDRHistogram().encodeBase64(), serviceHistogram: nil,
                                 firstError: nil, interrupted: false)
            m.lateChanges = late
            book.add(m)
        }
        let report = try #require(run.report)
        #expect(report.late_changes == ["d1": [LateChange(seq: 1, late_ms: 850.5)]])
        #expect(report.changes?.count == 1 && report.paused_s == nil)
    }

    @Test func theReportListsChangesPausedTimeAndLateDrivers() throws {
        let run = try running(#"{"test_id": "r", "test_type": "TSUNAMI", "target": "http://127.0.0.1/", "rate": 100, "duration_s": 10}"#)
        _ = try patch("r", #"{"rate": 50}"#)
        _ = try book.pause(id: "r", paused: true)
        clock.advance(ms: 2_000)
        var report = LoadReport(testID: "r", mode: .tsunami, target: "http://127.0.0.1/", startedAt: Date(), duration: 10, drivers: ["d1", "d2"],
                                counters: LoadCounters(), latency: HDRHistogram(), serviceTime: nil, partial: false, failedDrivers: [],
                                thresholds: [])
        run.setSteering(&report)
        #expect(report.changes?.count == 2)
        #expect(abs((report.paused_s ?? 0) - 8.7) < 1e-9)  // paused at 1.3 s and still at the end (10 s)
        let json = report.json()
        #expect(json.contains(#""paused_s""#) && json.contains(#""field" : "paused""#) && json.contains(#""from" : false"#), "\(json)")
    }
}
