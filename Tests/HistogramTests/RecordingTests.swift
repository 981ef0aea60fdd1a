import Foundation
import Testing
import TestSupport
@testable import Histogram

@Suite struct RecordingTests {
    @Test func recordsAndQueries() {
        var h = HDRHistogram()
        for v in 1...10_000 { h.record(Int64(v)) }
        #expect(h.totalCount == 10_000)
        #expect(h.min == 1)
        #expect(h.max == 10_007)  // highest equivalent value of 10,000 (step 8 in that bucket)
        #expect(h.value(atPercentile: 50) == 5_003)
        #expect(h.value(atPercentile: 99) == 9_903)
        #expect(h.value(atPercentile: 0) == 1)
        #expect(h.value(atPercentile: 100) == 10_007)
        #expect(abs(h.mean - 5000.5) < 5)
        #expect(abs(h.standardDeviation - 2886.9) < 5)
    }

    /// Subtracting a part leaves exactly the rest; a histogram that is not a part changes nothing.
    /// Merges read a histogram's counters only below its high-water mark: whatever order
    /// values came in (high then low, clamped, after a reset, decoded from the wire), merging
    /// gives the counters of recording everything into one.
    @Test func mergesSeeEveryValueWhateverTheOrderTheyCameIn() throws {
        let values: [Int64] = [5_000_000_000, 3_599_999_999, 1, 900, 123_456, 2, 70_000_000, 9_999_999]
        var all = HDRHistogram()
        for v in values { all.record(v) }
        var parts = [HDRHistogram(), HDRHistogram(), HDRHistogram()]
        for (k, v) in values.enumerated() { parts[k % 3].record(v) }
        var reused = HDRHistogram()
        reused.record(3_000_000_000)
        reused.reset()
        reused.record(7)
        var expected = all
        expected.record(7)
        // Decoded from the wire (which carries no clamped count: the clamped value is in part 0).
        let decoded = try HDRHistogram(encoded: parts[1].encodeCompressed())
        for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
            var merged = HDRHistogram()
            for k in order { try merged.add(k == 1 ? decoded : parts[k]) }
            #expect(merged == all, "order \(order)")
            var more = HDRHistogram()
            try more.add(reused)
            try more.add(merged)
            #expect(more == expected, "order \(order), after a reset")
            #expect(more.max == all.max && more.clampedCount == 1)
        }
    }

    @Test func subtractingAPartLeavesTheRest() throws {
        var whole = HDRHistogram(), part = HDRHistogram(), rest = HDRHistogram()
        for v in [5, 90, 1_500, 2_049, 70_000, 3_000_000, 9_000_000_000] as [Int64] { whole.record(v); rest.record(v) }
        for v in [90, 4_321, 4_321, 12_000_000] as [Int64] { whole.record(v); part.record(v) }
        try whole.subtract(part)
        #expect(whole == rest && whole.totalCount == 7 && whole.clampedCount == 1)
        var other = HDRHistogram()
        other.record(17)
        #expect(throws: HistogramError.notContained) { try whole.subtract(other) }
        #expect(whole == rest)
        // Empty histograms share their counters until written: writing one leaves the others empty.
        var a = HDRHistogram(), b = HDRHistogram()
        a.record(3)
        #expect(b.totalCount == 0 && b.count(at: 3) == 0 && a.count(at: 3) == 1)
        b.reset()
        try b.add(a)
        #expect(b == a && HDRHistogram().count(at: 3) == 0)
    }

    @Test func emptyHistogramAnswersZero() {
        let h = HDRHistogram()
        #expect(h.totalCount == 0 && h.min == 0 && h.max == 0 && h.mean == 0)
        #expect(h.value(atPercentile: 99) == 0)
        #expect(h.percentileSpectrum().isEmpty)
    }

    @Test func outOfRangeValuesAreClampedAndCounted() {
        var h = HDRHistogram()
        h.record(5_000_000_000)
        h.record(-3, count: 2)
        h.record(7)
        #expect(h.totalCount == 4)
        #expect(h.clampedCount == 3)
        #expect(h.max == HistogramLayout.latency.highestEquivalentValue(3_600_000_000))
        #expect(h.count(at: 0) == 2)

        let atomic = AtomicHDRHistogram()
        atomic.record(Int64.max)
        #expect(atomic.clampedCount == 1)
        #expect(atomic.snapshot().totalCount == 1)
    }

    @Test func coordinatedOmissionCorrectionAddsTheMissingSamples() {
        var h = HDRHistogram()
        h.recordCorrected(1_000, expectedInterval: 100)
        // 1000, 900, ..., 100: the samples that would have been taken during the stall.
        #expect(h.totalCount == 10)
        for v in stride(from: 100, through: 1_000, by: 100) { #expect(h.count(at: Int64(v)) == 1) }
        h.recordCorrected(50, expectedInterval: 100)
        h.recordCorrected(5_000, expectedInterval: 0)
        #expect(h.totalCount == 12)
    }

    @Test func mergingEqualsRecordingEverythingIntoOne() throws {
        var all = HDRHistogram()
        var merged = HDRHistogram()
        for seed in UInt64(1)...8 {
            var part = HDRHistogram()
            for v in latencyValues(count: 5_000, seed: seed) {
                part.record(v)
                all.record(v)
            }
            try merged.add(part)
        }
        #expect(merged == all)
        #expect(merged.values(atPercentiles: [50, 99, 99.9]) == all.values(atPercentiles: [50, 99, 99.9]))
        let other = HDRHistogram(layout: try HistogramLayout(highestTrackableValue: 1000))
        #expect(throws: HistogramError.self) { try merged.add(other) }
    }

    @Test func percentileSpectrumIsMonotonicAndEndsAtMax() {
        var h = HDRHistogram()
        for v in latencyValues(count: 100_000, seed: 9) { h.record(v) }
        let spectrum = h.percentileSpectrum(ticksPerHalfDistance: 5)
        #expect(spectrum.first?.percentile == 0)
        #expect(spectrum.last?.percentile == 100)
        #expect(spectrum.last?.value == h.max)
        #expect(spectrum.count > 50)
        for (a, b) in zip(spectrum, spectrum.dropFirst()) {
            #expect(a.percentile < b.percentile && a.value <= b.value)
        }
    }

    /// Property test against hdrhistogram-swift (Tests/Oracle, built by `make test`).
    @Test(arguments: [UInt64(11), 12, 13, 14, 15])
    func percentilesMatchTheSwiftPortOfHdrHistogram(seed: UInt64) throws {
        let oracle = repositoryRoot.appendingPathComponent("Tests/Oracle/.build/release/hdr-oracle")
        var rng = SeededGenerator(seed: seed)
        let values = latencyValues(count: Int.random(in: 1...50_000, using: &rng), seed: seed)
        let percentiles = [0.1, 1, 25, 50, 75, 90, 99, 99.9, 99.99, 99.999]
        let input = values.map(String.init).joined(separator: "\n").data(using: .utf8)!
        let answer = String(decoding: try run(oracle, ["percentiles", percentiles.map { "\($0)" }.joined(separator: ",")],
                                              input: input), as: UTF8.self)
        let fields = answer.split(separator: " ").map { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines))! }

        var h = HDRHistogram()
        for v in values { h.record(v) }
        let layout = h.layout
        #expect(h.totalCount == fields[0])
        #expect(h.min == layout.lowestEquivalentValue(fields[1]))
        #expect(h.max == layout.highestEquivalentValue(fields[2]))
        // The port clamps a percentile to [min, max recorded]; compare by equivalent range.
        for (p, (mine, theirs)) in zip(percentiles, zip(h.values(atPercentiles: percentiles), fields.dropFirst(3))) {
            #expect(mine == layout.highestEquivalentValue(theirs), "p\(p): \(mine) vs oracle \(theirs), seed \(seed)")
        }
    }
}
