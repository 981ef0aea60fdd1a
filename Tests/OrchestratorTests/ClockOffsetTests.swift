import Foundation
import Histogram
import Logging
import Messaging
@testable import Orchestrator
import StampedeModel
import StampedeWire
import Testing

/// Drivers' clocks in memory: the NTP-style estimate, refusal beyond the limit, each driver's
/// start on its own clock, and what the report then says (also of late seconds and of a failed
/// driver's late final).
@Suite struct ClockOffsetTests {
    /// An exchange with a driver `offset` µs ahead, the legs taking `out` and `back` µs, the probe
    /// held `held` µs on the driver, sent at orchestrator time `at`.
    func exchange(offset: Int64, out: Int64, back: Int64, held: Int64 = 300_000, at: Int64 = 1_700_000_000_000_000) -> ClockExchange {
        let received = at + out + offset
        let echoed = received + held
        return ClockExchange(sent: at, received: received, echoed: echoed, read: echoed - offset + back)
    }

    @Test func theOffsetIsExactWhenBothLegsTakeAsLongAndOffByHalfTheDifferenceOtherwise() {
        let even = exchange(offset: 3_000_000, out: 4_000, back: 4_000)
        #expect(even.offsetUs == 3_000_000 && even.roundTripUs == 8_000)
        // The time the driver held the probe is not part of the round trip.
        let held = exchange(offset: -1_500, out: 2_000, back: 2_000, held: 900_000)
        #expect(held.offsetUs == -1_500 && held.roundTripUs == 4_000)
        let skewed = exchange(offset: 0, out: 50_000, back: 2_000)
        #expect(skewed.offsetUs == 24_000 && skewed.roundTripUs == 52_000)
    }

    @Test func theEstimateTakesTheQuickestOfTheLastEightAndSkipsImpossibleOnes() {
        var estimate = ClockOffsetEstimate()
        #expect(estimate.offsetMs == nil && estimate.roundTripMs == nil)
        estimate.add(exchange(offset: 3_000_000, out: 60_000, back: 2_000))  // a leg held in a queue: 29 ms off
        estimate.add(exchange(offset: 3_000_000, out: 3_000, back: 3_000))
        estimate.add(exchange(offset: 3_000_000, out: 30_000, back: 1_000))
        #expect(estimate.offsetMs == 3_000 && estimate.roundTripMs == 6)
        // A clock stepped mid-exchange gives a negative round trip: left out.
        estimate.add(ClockExchange(sent: 10_000, received: 5_000, echoed: 6_000, read: 8_000))
        #expect(estimate.recent.count == 3)
        // Eight newer, slower exchanges push the quick one out of the window.
        for _ in 0..<8 { estimate.add(exchange(offset: 3_010_000, out: 10_000, back: 10_000)) }
        #expect(estimate.recent.count == 8 && estimate.offsetMs == 3_010 && estimate.roundTripMs == 20)
    }

    @Test func aHeartbeatCompletesAnExchangeOnlyWithItsOwnOrchestratorsProbe() {
        var heartbeat = HeartbeatMessage(driverID: "d1", state: .idle, testID: nil, sentAtMs: 0)
        heartbeat.sentAtUs = 2_000
        heartbeat.probe = ProbeEcho(orchestratorID: "orchestrator-probe-a", sentAtUs: 1_000, receivedAtUs: 1_500)
        #expect(ClockExchange(heartbeat, orchestratorID: "orchestrator-probe-a", readUs: 2_600)
                == ClockExchange(sent: 1_000, received: 1_500, echoed: 2_000, read: 2_600))
        #expect(ClockExchange(heartbeat, orchestratorID: "orchestrator-probe-b", readUs: 2_600) == nil)
        heartbeat.sentAtUs = nil  // an older driver: no µs send time
        #expect(ClockExchange(heartbeat, orchestratorID: "orchestrator-probe-a", readUs: 2_600) == nil)
    }

    @Test func aDriverFurtherOffThanTheLimitIsRefusedWithTheReasonAndKeepsItsEstimateAcrossARegistration() {
        var registry = DriverRegistry(timeoutMs: 3_000, maxClockOffsetMs: 1_000)
        for id in ["d1", "d2"] {
            _ = registry.apply(.register(RegisterMessage(driverID: id, host: "h", threads: 1, version: "v", pid: 1)), now: 0)
        }
        registry.record(exchange(offset: 400_000, out: 1_000, back: 1_000), for: "d1")
        registry.record(exchange(offset: -3_000_000, out: 1_000, back: 1_000), for: "d2")
        #expect(registry.refusal("d1") == nil)
        let why = registry.refusal("d2") ?? ""
        #expect(why.contains("3000.0 ms behind the orchestrator's") && why.contains("--max-clock-offset-ms 1000"), "\(why)")
        let infos = Dictionary(uniqueKeysWithValues: registry.infos(now: 0).map { ($0.id, $0) })
        #expect(infos["d1"]?.clock_offset_ms == 400 && infos["d1"]?.rtt_ms == 2 && infos["d1"]?.refused == nil)
        #expect(infos["d2"]?.refused == why)
        _ = registry.apply(.register(RegisterMessage(driverID: "d2", host: "h", threads: 1, version: "v", pid: 2)), now: 0)
        #expect(registry.clockOffsetMs("d2") == -3_000)
    }

    @Test func eachDriverIsGivenItsStartOnItsOwnClockAndItsTimesAreReadBack() throws {
        let clock = ManualClock()
        let bus = InMemoryBus(topics: .stampede())
        let sent = try bus.subscribe([.trigger], from: .end)
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-clock-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: reports) }
        let book = try TestBookTests.makeBook(clock: clock, bus: bus, reports: reports)
        book.clockOffsetMs = { ["d2": 3_000.4, "d3": -250.0][$0] }
        _ = try book.create(json: Array(#"{"test_id": "c", "target": "http://127.0.0.1/", "message_count_per_driver": 2, "drivers": 2}"#.utf8))
        #expect(throws: TestBookError.driversRefused(wanted: 2, usable: 1, refused: ["d9": "its clock is off"])) {
            _ = try book.trigger(id: "c", idle: ["d1"], refused: ["d9": "its clock is off"])
        }
        _ = try book.create(json: Array(#"{"test_id": "c3", "target": "http://127.0.0.1/", "message_count_per_driver": 2}"#.utf8))
        let (run, _) = try book.trigger(id: "c3", idle: ["d1", "d2", "d3"], refused: ["d9": "its clock is off"])
        guard case .trigger(let trigger)? = try sent.pollMessages(timeoutMs: 100).last else { Issue.record("no trigger"); return }
        #expect(trigger.startAtMs(for: "d1") == run.startAtMs)
        #expect(trigger.startAtMs(for: "d2") == run.startAtMs + 3_000 && trigger.startAtMs(for: "d3") == run.startAtMs - 250)
        for (d, offset) in [("d1", Int64(0)), ("d2", 3_000), ("d3", -250)] {
            book.add(FinalMessage(driverID: d, testID: "c3", startedAtMs: run.startAtMs + offset, durationS: 1, requests: 2, responses: 2,
                                  errors: ErrorCounts(), bytesRead: 0, histogram: HDRHistogram().encodeBase64(), serviceHistogram: nil,
                                  firstError: nil, interrupted: false))
        }
        let report = try #require(run.report)
        // On one clock the three started together: the test spans 1 s, not 4.25.
        #expect(report.duration_s == 1)
        #expect(report.clock_offsets_ms == ["d2": 3_000.4, "d3": -250] && report.refused_drivers == ["d9": "its clock is off"])
    }

    @Test func secondsAnnouncedWithoutADriverAreNamedAndAFailedDriversLateFinalIsDeclared() throws {
        let clock = ManualClock()
        let bus = InMemoryBus(topics: .stampede())
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-late-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: reports) }
        let book = try TestBookTests.makeBook(clock: clock, bus: bus, reports: reports)
        let events = EventLog()
        book.onEvent = { e in events.withLock { $0.append(e.json) } }
        _ = try book.create(json: Array(#"{"test_id": "l", "target": "http://127.0.0.1/", "message_count_per_driver": 30}"#.utf8))
        let (run, _) = try book.trigger(id: "l", idle: ["d1", "d2"])
        func interval(_ d: String, _ t: Int) -> IntervalMessage {
            IntervalMessage(driverID: d, testID: "l", t: t, requests: 10, responses: 10, errors: ErrorCounts(), bytesRead: 0,
                            histogram: HDRHistogram().encodeBase64())
        }
        for t in 1...3 { book.add(interval("d1", t)) }  // d2's second 1 is late: announced at d1's third
        let first = events.withLock { $0.first { $0.contains(#""type":"interval""#) } } ?? ""
        #expect(first.contains(#""late_drivers":["d2"]"#) && first.contains(#""t":1"#), "\(first)")
        book.add(interval("d2", 1))  // folded into the announced second
        book.driverFailed("d2")
        for t in 2...3 { book.add(interval("d2", t)) }  // after the failure: not counted
        var final = FinalMessage(driverID: "d1", testID: "l", startedAtMs: run.startAtMs, durationS: 3, requests: 30, responses: 30,
                                 errors: ErrorCounts(), bytesRead: 0, histogram: HDRHistogram().encodeBase64(), serviceHistogram: nil,
                                 firstError: nil, interrupted: false)
        book.add(final)
        for part in run.shares.keys where part.part > 1 {
            var handed = final
            handed.part = part.part
            handed.requests = run.shares[part]?.requests ?? 0
            book.add(handed)
        }
        #expect(run.status == .done)
        #expect(run.report?.late_seconds == ["d2": [1]] && run.report?.sent_after_failure == nil)
        // d2 comes back with its final: 30 sent, 10 of them reported in time.
        final.driverID = "d2"
        book.add(final)
        book.add(final)  // delivered twice: counted once
        // Counted: d1's 30, d2's 10 reported in time, the 20 handed over; d2's 20 beyond are declared.
        #expect(run.report?.sent_after_failure == ["d2": 20] && run.report?.requests == 60)
        let written = try String(contentsOf: reports.appendingPathComponent("l/report.json"), encoding: .utf8)
        #expect(written.contains(#""sent_after_failure""#))
    }
}
