@testable import Messaging
import Testing

/// The consumer's rule for fetches that skip offsets, on a manual clock.
@Suite struct OffsetGapTests {
    let p0 = OffsetGaps.PartitionKey(topic: "m", partition: 0)
    let p1 = OffsetGaps.PartitionKey(topic: "m", partition: 1)

    @Test func consecutiveOffsetsAreDeliveredAndAPartitionWithoutAStartTakesItsFirst() {
        var gaps = OffsetGaps(starts: [p0: 5, p1: -1])
        #expect(gaps.admit(p0, offset: 5, nowNs: 0) == .deliver)
        #expect(gaps.admit(p0, offset: 6, nowNs: 0) == .deliver)
        #expect(gaps.admit(p1, offset: 40, nowNs: 0) == .deliver)  // -1: "from the end", unresolved
        #expect(gaps.admit(p1, offset: 41, nowNs: 0) == .deliver)
        #expect(gaps.next == [p0: 7, p1: 42])
    }

    @Test func aSkippedRangeIsSoughtBackToThenReadInOrder() {
        var gaps = OffsetGaps(starts: [p0: 2362])
        #expect(gaps.admit(p0, offset: 2580, nowNs: 10) == .seekBack(to: 2362))
        #expect(gaps.admit(p1, offset: 0, nowNs: 10) == .deliver)  // another partition reads on
        #expect(gaps.admit(p0, offset: 2581, nowNs: 20) == .seekBack(to: 2362))  // the fetch's rest, before the seek
        for offset in Int64(2362)...2600 {
            #expect(gaps.admit(p0, offset: offset, nowNs: 30) == .deliver)
        }
        #expect(gaps.admit(p0, offset: 2601, nowNs: 40) == .deliver)
    }

    @Test func aLogThatStartsAgainIsReadFromWhereItNowBeginsAndSaidSo() {
        var gaps = OffsetGaps(starts: [p0: 5_000])
        #expect(gaps.admit(p0, offset: 5_000, nowNs: 0) == .deliver)
        #expect(gaps.admit(p0, offset: 0, nowNs: 0) == .deliverAfterRewind(expected: 5_001))
        #expect(gaps.admit(p0, offset: 1, nowNs: 0) == .deliver)
        // A gap open when the log starts again is forgotten.
        #expect(gaps.admit(p0, offset: 9, nowNs: 0) == .seekBack(to: 2))
        #expect(gaps.admit(p0, offset: 0, nowNs: 1) == .deliverAfterRewind(expected: 2))
        #expect(gaps.admit(p0, offset: 1, nowNs: 1) == .deliver)
    }

    @Test func aGapStillThereAfterThePatienceIsReportedAndReadingGoesOn() {
        var gaps = OffsetGaps(starts: [p0: 100], patienceNs: 2_000)
        #expect(gaps.admit(p0, offset: 150, nowNs: 1_000) == .seekBack(to: 100))
        #expect(gaps.admit(p0, offset: 150, nowNs: 2_999) == .seekBack(to: 100))
        #expect(gaps.admit(p0, offset: 150, nowNs: 3_000) == .deliverAfterGap(from: 100, count: 50))
        #expect(gaps.admit(p0, offset: 151, nowNs: 3_000) == .deliver)
        // A later gap has its own patience.
        #expect(gaps.admit(p0, offset: 160, nowNs: 9_000) == .seekBack(to: 152))
        #expect(gaps.admit(p0, offset: 152, nowNs: 9_100) == .deliver)
        #expect(gaps.admit(p0, offset: 160, nowNs: 20_000) == .seekBack(to: 153))
    }
}
