import Testing
import TestSupport
@testable import Histogram

@Suite struct LayoutTests {
    @Test func latencyLayoutMatchesHdrHistogram() {
        // Reference figures for (1, 3_600_000_000, 3) from HdrHistogram's Java implementation.
        let layout = HistogramLayout.latency
        #expect(layout.subBucketCount == 2048)
        #expect(layout.subBucketHalfCount == 1024)
        #expect(layout.unitMagnitude == 0)
        #expect(layout.bucketCount == 22)
        #expect(layout.countsLength == 23_552)
    }

    @Test func indexesFollowTheSubBucketLayout() {
        let layout = HistogramLayout.latency
        // The first 2048 values have unit resolution, then each bucket doubles the step.
        #expect(layout.index(of: 0) == 0)
        #expect(layout.index(of: 2047) == 2047)
        #expect(layout.index(of: 2048) == 2048)
        #expect(layout.index(of: 2049) == 2048)
        #expect(layout.index(of: 4095) == 3071)
        #expect(layout.index(of: 4096) == 3072)
        #expect(layout.index(of: 3_600_000_000) < layout.countsLength)
        #expect(layout.value(atIndex: 3072) == 4096)
        #expect(layout.sizeOfEquivalentRange(4096) == 4)
        #expect(layout.highestEquivalentValue(4096) == 4099)
        #expect(layout.lowestEquivalentValue(4099) == 4096)
    }

    @Test(arguments: [UInt64(1), 2, 3, 42])
    func everyValueStaysWithinThreeDigits(seed: UInt64) {
        let layout = HistogramLayout.latency
        for v in latencyValues(count: 20_000, seed: seed) {
            let i = layout.index(of: v)
            #expect(layout.value(atIndex: i) <= v)
            #expect(layout.highestEquivalentValue(v) >= v)
            let error = Double(layout.sizeOfEquivalentRange(v)) / Double(Swift.max(v, 1))
            #expect(v < 2048 || error < 0.001, "value \(v) has relative error \(error)")
        }
    }

    @Test func otherLayoutsAreChecked() throws {
        #expect(throws: HistogramError.self) { try HistogramLayout(lowestDiscernibleValue: 0, highestTrackableValue: 10) }
        #expect(throws: HistogramError.self) { try HistogramLayout(lowestDiscernibleValue: 10, highestTrackableValue: 15) }
        #expect(throws: HistogramError.self) { try HistogramLayout(highestTrackableValue: 1000, significantDigits: 6) }
        let nanos = try HistogramLayout(lowestDiscernibleValue: 1000, highestTrackableValue: 3_600_000_000_000, significantDigits: 2)
        #expect(nanos.unitMagnitude == 9)
        #expect(nanos.lowestEquivalentValue(1023) == 512)
    }
}
