import Histogram
import Testing

/// The one-pass summary gives exactly what the four separate queries give.
@Suite struct SummaryTests {
    @Test(arguments: [0, 1, 2, 7, 100, 10_000])
    func theSummaryEqualsTheSeparateQueries(values: Int) {
        var generator = SystemRandomNumberGenerator()
        var h = HDRHistogram()
        for k in 0..<values {
            // Sparse and dense regions, the first and last counters included.
            let v: Int64 = k % 3 == 0 ? Int64.random(in: 1...50, using: &generator) : Int64.random(in: 1...3_600_000_000, using: &generator)
            h.record(v)
        }
        let percentiles = [50, 90, 99, 99.9, 0, 100]
        let s = h.summary(atPercentiles: percentiles)
        #expect(s.min == h.min)
        #expect(s.max == h.max)
        #expect(s.mean == h.mean)
        #expect(s.values == h.values(atPercentiles: percentiles))
    }
}
