import Foundation
import Histogram
@testable import Orchestrator
import StampedeModel
import StampedeWire
import Testing

/// Timings (connect, TLS, waiting, receiving) from several drivers, merged by the orchestrator
/// from the messages themselves (through their JSON): exact, per name and whole, and judged by
/// the timing thresholds.
@Suite struct TimingsMergeTests {
    /// A driver's figures: two names, each response's waiting and receiving, and connects.
    func figures(waiting: [Int64], receiving: [Int64], connects: [Int64], tls: [Int64]) -> Figures {
        var f = Figures(byName: FiguresByName(names: ["home", "search"]))
        for (k, w) in waiting.enumerated() {
            let n = k % 2
            f.counters.requests += 1; f.counters.responses += 1; f.counters.statusCodes.record(200)
            f.latency.record(w + receiving[k])
            f.timings.waiting.record(w); f.timings.receiving.record(receiving[k])
            f.byName[position: n].counters.requests += 1; f.byName[position: n].counters.responses += 1
            f.byName[position: n].latency.record(w + receiving[k])
            f.byName[position: n].timings.waiting.record(w); f.byName[position: n].timings.receiving.record(receiving[k])
        }
        for c in connects { f.timings.connect.record(c); f.byName[position: 0].timings.connect.record(c) }
        for t in tls { f.timings.tls.record(t); f.byName[position: 0].timings.tls.record(t) }
        return f
    }

    /// Through the bus's JSON, as a driver sends it.
    func final(_ driver: String, _ f: Figures) throws -> FinalMessage {
        var m = FinalMessage(driverID: driver, testID: "tm", startedAtMs: 1_000, durationS: 2, requests: 0, responses: 0,
                             errors: ErrorCounts(), bytesRead: 0, histogram: "", serviceHistogram: nil, firstError: nil, interrupted: false)
        m.carry(f)
        return try JSONDecoder().decode(FinalMessage.self, from: JSONEncoder().encode(m))
    }

    @Test func timingsMergeExactlyPerNameAndWhole() throws {
        let config = #"{"test_id": "tm", "requests": [{"name": "home", "url": "https://127.0.0.1/"}, {"name": "search", "url": "https://127.0.0.1/s"}], "duration_s": 2, "thresholds": {"waiting_p99_ms": 50, "search:receiving_p99_ms": 1, "home:connect_p99_ms": 10, "tls_p99_ms": 100}}"#
        let run = TestRun(createdAtMs: 0, definition: try TestConfig(json: Array(config.utf8)) { "generated" })
        run.triggered(drivers: ["d1", "d2"], startAtMs: 1_000, refused: [:], atMs: 0)
        let a = figures(waiting: [1_000, 2_000, 30_000, 4_000], receiving: [0, 500, 0, 9_000], connects: [150, 300], tls: [2_000])
        let b = figures(waiting: [70_000, 6_000], receiving: [100, 200], connects: [5_000], tls: [90_000, 120_000])
        run.add(try final("d1", a))
        run.add(try final("d2", b))
        let (report, _) = try run.buildReport(nowMs: 0)
        // The whole test: as if every value had been recorded in one histogram.
        var whole = a.timings
        try whole.add(b.timings)
        #expect(report.waiting_us == LatencySummary(whole.waiting) && report.waiting_us?.max == LatencySummary(whole.waiting).max)
        #expect(report.receiving_us == LatencySummary(whole.receiving))
        #expect(report.connect_us == LatencySummary(whole.connect) && report.connects == 3)
        #expect(report.tls_us == LatencySummary(whole.tls) && report.tls_handshakes == 3)
        // Per name: home had the connects and handshakes; search none (absent, and 0 counted).
        let home = try #require(report.by_name?["home"]), search = try #require(report.by_name?["search"])
        var homeWaiting = a.byName[position: 0].timings.waiting
        try homeWaiting.add(b.byName[position: 0].timings.waiting)
        #expect(home.waiting_us == LatencySummary(homeWaiting) && home.connects == 3 && home.tls_handshakes == 3)
        #expect(search.connect_us == nil && search.tls_us == nil && search.connects == 0)
        var searchReceiving = a.byName[position: 1].timings.receiving
        try searchReceiving.add(b.byName[position: 1].timings.receiving)
        #expect(search.receiving_us == LatencySummary(searchReceiving) && search.responses == 3)
        // Judged: waiting p99 is 70 ms (> 50); search's receiving p99 is 9 ms (> 1); home's
        // connect p99 is 5 ms (< 10); TLS p99 120 ms (> 100).
        let results = Dictionary(uniqueKeysWithValues: report.thresholds.results.map { ($0.name, $0) })
        #expect(results["waiting_p99_ms"]?.passed == false && abs((results["waiting_p99_ms"]?.actual ?? 0) - 70) < 0.1)
        #expect(results["search:receiving_p99_ms"]?.passed == false && abs((results["search:receiving_p99_ms"]?.actual ?? 0) - 9) < 0.01)
        #expect(results["home:connect_p99_ms"]?.passed == true && abs((results["home:connect_p99_ms"]?.actual ?? 0) - 5) < 0.01)
        #expect(results["tls_p99_ms"]?.passed == false && report.thresholds.results.count == 4)
    }

    @Test func aTimingHistogramOfAnotherLayoutRefusesTheWholeMessage() throws {
        let run = TestRun(createdAtMs: 0, definition: try TestConfig(json: Array(#"{"test_id": "tm", "target": "http://127.0.0.1/", "duration_s": 2}"#.utf8)) { "generated" })
        run.triggered(drivers: ["d1"], startAtMs: 1_000, refused: [:], atMs: 0)
        var m = IntervalMessage(driverID: "d1", testID: "tm", t: 1, requests: 5, responses: 5, errors: ErrorCounts(), bytesRead: 0,
                                histogram: { var h = HDRHistogram(); h.record(1_000, count: 5); return h.encodeBase64() }())
        var other = HDRHistogram(layout: try HistogramLayout(highestTrackableValue: 1_000, significantDigits: 2))
        other.record(10)
        m.timings = TimingsShare(Timings())
        #expect(m.timings == nil)  // nothing timed: the field is left out
        m.timings = try JSONDecoder().decode(TimingsShare.self, from: Data(#"{"waiting_us": "\#(other.encodeBase64())"}"#.utf8))
        #expect(throws: (any Error).self) { try run.add(m) }
        #expect(run.intervals[1] == nil && run.reported.isEmpty)
    }

    /// A busy second of 200 names (100 responses each, latencies spread from 50 µs to 2 s, a
    /// few new connections each, TLS) stays under the broker's default message size (1 MiB).
    @Test func aSecondOfTwoHundredNamesFitsInOneMessage() throws {
        var random = SystemRandomNumberGenerator()
        let names = (0..<200).map { "name-\($0)" }
        var f = Figures(byName: FiguresByName(names: names))
        func spread(_ lo: Double, _ hi: Double) -> Int64 { Int64(exp(Double.random(in: log(lo)...log(hi), using: &random))) }
        for n in names.indices {
            for _ in 0..<100 {
                let w = spread(50, 2_000_000), r = spread(1, 50_000)
                f.latency.record(w + r); f.byName[position: n].latency.record(w + r)
                f.timings.waiting.record(w); f.timings.receiving.record(r)
                f.byName[position: n].timings.waiting.record(w); f.byName[position: n].timings.receiving.record(r)
                f.byName[position: n].counters.requests += 1; f.byName[position: n].counters.responses += 1
                f.byName[position: n].counters.statusCodes.record(200)
            }
            for _ in 0..<5 {
                let c = spread(50, 5_000), t = spread(500, 50_000)
                f.timings.connect.record(c); f.timings.tls.record(t)
                f.byName[position: n].timings.connect.record(c); f.byName[position: n].timings.tls.record(t)
            }
        }
        var m = IntervalMessage(driverID: "d1", testID: "tm", t: 1, requests: 20_000, responses: 20_000, errors: ErrorCounts(), bytesRead: 0, histogram: "")
        m.carry(f)
        let bytes = try JSONEncoder().encode(m).count
        #expect(bytes < 1_000_000, "an interval of 200 busy names is \(bytes) bytes")
        #expect(bytes > 100_000, "\(bytes) bytes: the histograms are not empty")
    }

    @Test func thresholdNamesParseInBothForms() throws {
        #expect(try Threshold(parsing: "waiting_p99_ms=200").name == .waiting_p99_ms)
        let scoped = try Threshold(parsing: "login:connect_p99_ms=5")
        #expect(scoped.scope == "login" && scoped.name == .connect_p99_ms && scoped.key == "login:connect_p99_ms")
        #expect(throws: ConfigError.self) { try Threshold(parsing: "waiting_p99_ms=fast") }
    }
}
