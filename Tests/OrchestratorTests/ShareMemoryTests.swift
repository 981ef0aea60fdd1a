import Foundation
import Histogram
@testable import Orchestrator
import StampedeModel
import StampedeWire
import Testing

/// What each driver's share reported is kept for the whole test (a driver that fails before its
/// final keeps its reported seconds in the report), sparse: scattered values no longer make a
/// page of counters resident each, and the failed driver's part stays exact.
@Suite(.serialized) struct ShareMemoryTests {
    static let names = (0..<20).map { "n\($0)" }

    /// A driver's second: each name two values scattered from 100 µs to 10 s, with its waiting
    /// and receiving (and the dense sum, for checking).
    static func second(seed: inout UInt64) -> Figures {
        var whole = Figures()
        for name in names {
            var named = NamedFigures(name: name)
            for _ in 0..<2 {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                let latency = 100 + Int64((seed >> 33) % 10_000_000), waiting = latency / 2
                named.counters += LoadCounters(requests: 1, responses: 1, errors: ErrorCounts(), bytesRead: 0, retriedStale: 0,
                                               statusCodes: StatusCodeCounts())
                named.latency.record(latency, count: 1)
                named.timings.waiting.record(waiting, count: 1)
                named.timings.receiving.record(latency - waiting, count: 1)
            }
            var one = Figures(counters: named.counters, latency: named.latency)
            one.timings = named.timings
            one.byName = FiguresByName([named])
            try! whole.add(one)
        }
        return whole
    }

    static func residentAnonymousKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    /// 20 drivers, ten seconds each, every second announced and compacted as the orchestrator
    /// does: what the shares keep grows by far less than dense histograms would take (about 80
    /// MiB: each share's 63 histograms with a page per scattered value). d0 fails before its
    /// final: its reported seconds are in the report, each name's histogram exactly their sum.
    @Test func sharesKeepTheirSecondsSparseAndAFailedDriversPartExact() throws {
        let requests = Self.names.map { #"{"name": "\#($0)", "url": "http://127.0.0.1:9/\#($0)"}"# }.joined(separator: ",")
        let config = try TestConfig(json: Array(#"{"test_id": "m", "test_type": "TSUNAMI", "rate": 40, "duration_s": 10, "requests": [\#(requests)]}"#.utf8)) { "m" }
        let run = TestRun(createdAtMs: 0, definition: config)
        let drivers = (0..<20).map { "d\($0)" }
        run.triggered(drivers: drivers, startAtMs: 1_000, refused: [:], atMs: 0)
        var seed: UInt64 = 7
        var failedPart = Figures()
        // Made before measuring: only what the run keeps counts.
        let seconds: [[IntervalMessage]] = (1...10).map { t in
            drivers.map { d in
                let figures = Self.second(seed: &seed)
                if d == "d0" { try! failedPart.add(figures) }
                var m = IntervalMessage(driverID: d, testID: "m", t: t, requests: 0, responses: 0, errors: ErrorCounts(), bytesRead: 0, histogram: "")
                m.carry(second: figures)
                return m
            }
        }
        let before = Self.residentAnonymousKiB()
        for messages in seconds {
            for m in messages { try run.add(m) }
            for (t, s, _) in run.intervalsReady() { run.secondEncoded(t, CompactInterval(encoding: s)) }
        }
        let grown = Self.residentAnonymousKiB() - before
        #expect(before > 0 && grown < 8 * 1024, "the shares' reported seconds took \(grown) KiB")

        run.driverFailed("d0")
        for d in drivers.dropFirst() {
            run.add(FinalMessage(driverID: d, testID: "m", startedAtMs: 1_000, durationS: 10, requests: 0, responses: 0, errors: ErrorCounts(),
                                 bytesRead: 0, histogram: HDRHistogram().encodeBase64(), serviceHistogram: nil, firstError: nil, interrupted: false))
        }
        let (report, latency) = try run.buildReport(nowMs: 12_000)
        #expect(report.partial && report.failed_drivers == ["d0"])
        #expect(latency.counts == failedPart.latency.counts && report.requests == failedPart.counters.requests)
        for named in failedPart.byName.entries {
            let entry = try #require(report.by_name?[named.name])
            #expect(try HDRHistogram(base64: entry.histogram).counts == named.latency.counts, "\(named.name)")
            #expect(entry.waiting_us == LatencySummary(named.timings.waiting) && entry.receiving_us == LatencySummary(named.timings.receiving))
        }
    }
}
