import Foundation
import Testing
@testable import Histogram

/// A histogram's 184 KiB of counters take resident memory only where values fell, through
/// creation, copies, merges, resets, decoding and snapshots; copies stay independent
/// (copy-on-write).
@Suite(.serialized) struct MemoryTests {
    /// The process's resident anonymous memory (KiB): counters written take it, counters only
    /// read (the kernel's shared zero page) do not.
    static func residentAnonymousKiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("RssAnon:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    static let batch = 64
    /// 64 fully written latency histograms: 11.5 MiB.
    static var fullyWrittenKiB: Int { batch * HistogramLayout.latency.countsLength * 8 / 1024 }

    /// Makes `batch` histograms and expects them to have added less than a quarter of what fully
    /// written counters would take (a few KiB each is what they need). The least of three tries
    /// counts: other tests running beside this one (`make test-fast` runs them in parallel) can
    /// only add to a try, and counters written whole would exceed the bound in every try.
    static func expectSparse(_ what: String, _ make: (Int) throws -> HDRHistogram) rethrows -> [HDRHistogram] {
        var least = Int.max
        var made: [HDRHistogram] = []
        for _ in 0..<3 {
            made = []
            let before = residentAnonymousKiB()
            made = try (0..<batch).map(make)
            least = Swift.min(least, residentAnonymousKiB() - before)
            #expect(before > 0)
        }
        #expect(least < fullyWrittenKiB / 4, "\(what): \(least) KiB for \(batch) histograms")
        return made
    }

    static func narrow(_ n: Int) -> HDRHistogram {
        var h = HDRHistogram()
        for i in 0..<n { h.record(Int64(400 + i % 200)) }  // 400-599 µs: a few counters
        return h
    }

    @Test func onlyCountersThatHoldValuesTakeMemory() throws {
        let recorded = Self.expectSparse("recorded") { _ in Self.narrow(5_000) }
        let encoded = recorded.map { $0.encodeBase64() }
        let decoded = try Self.expectSparse("decoded") { try HDRHistogram(base64: encoded[$0]) }
        #expect(decoded == recorded)
        let merged = try Self.expectSparse("merged") { i in
            var h = HDRHistogram()
            try h.add(recorded[i])
            try h.add(SparseCounts(base64: encoded[i]))
            return h
        }
        #expect(merged.allSatisfy { $0.totalCount == 10_000 && $0.value(atPercentile: 50) == recorded[0].value(atPercentile: 50) })
        var reset = Self.expectSparse("copied and reset") { i in
            var h = recorded[i]
            h.record(700)
            h.reset()
            return h
        }
        #expect(reset.allSatisfy { $0.totalCount == 0 && $0.max == 0 } && recorded.allSatisfy { $0.totalCount == 5_000 })
        reset = Self.expectSparse("reset in place") { i in
            var h = Self.narrow(100)
            h.reset()
            return h
        }
        let atomics = (0..<Self.batch).map { _ in AtomicHDRHistogram() }
        for a in atomics { for v in 300...320 { a.record(Int64(v)) } }
        let snapshots = Self.expectSparse("snapshots") { atomics[$0].snapshot() }
        #expect(snapshots.allSatisfy { $0.totalCount == 21 } && reset.count == Self.batch)
    }

    @Test func copiesAreIndependent() throws {
        let original = Self.narrow(1_000)
        var copy = original
        #expect(copy._storage === original._storage)  // shared until written
        copy.record(50_000)
        #expect(original.totalCount == 1_000 && original.max < 1_000 && copy.totalCount == 1_001 && copy.max >= 50_000)
        var cleared = original
        cleared.reset()
        #expect(original.totalCount == 1_000 && original.value(atPercentile: 50) > 0 && cleared.value(atPercentile: 50) == 0)
        var summed = original
        try summed.add(original)
        #expect(summed.totalCount == 2_000 && original.totalCount == 1_000)
        #expect(summed != original && Self.narrow(1_000) == original)
    }

    @Test func timestampsReadAsFoundationWritesThem() {
        let reference = ISO8601DateFormatter()
        let withMs = ISO8601DateFormatter()
        withMs.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            // Whole milliseconds from 1970 to 2100, leap days and year ends included by chance.
            let ms = Int64.random(in: 0...4_102_444_800_000, using: &rng)
            let date = Date(timeIntervalSince1970: Double(ms) / 1000)
            #expect(UTCTimestamp.rfc3339(date, milliseconds: true) == withMs.string(from: date), "\(ms)")
            let whole = Date(timeIntervalSince1970: Double(ms / 1000))
            #expect(UTCTimestamp.rfc3339(whole) == reference.string(from: whole), "\(ms)")
        }
        #expect(UTCTimestamp.rfc3339(Date(timeIntervalSince1970: 951_782_400.5), milliseconds: true) == "2000-02-29T00:00:00.500Z")
    }
}
