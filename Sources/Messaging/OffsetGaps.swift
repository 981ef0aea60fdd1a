/// Where a consumer is in each partition, and what to do with a record that skips offsets.
///
/// Stampede's topics are neither compacted nor transactional, so a partition's offsets arrive
/// one after another. A record past the next expected offset means the broker answered a fetch
/// with a later batch than the one asked for: Tansu does so now and then while several producers
/// append to the same partition (a fetch at 2362 answered from 2580; the 218 records between
/// were in the log when read again). Such a gap is read again by seeking back to the expected
/// offset, for up to `patienceNs`; a gap still there after that (a log that lost those offsets
/// to retention) is accepted and reported, so reading never stops.
struct OffsetGaps: Sendable {
    struct PartitionKey: Hashable, Sendable {
        var topic: String
        var partition: Int32
    }

    enum Admission: Equatable, Sendable {
        /// The next record: hand it on.
        case deliver
        /// An offset before the one expected: the partition's log started again (a topic
        /// re-created, or librdkafka's reset to the earliest offset). Hand it on, report the rewind.
        case deliverAfterRewind(expected: Int64)
        /// Offsets were skipped: seek the partition back to `offset` and drop this record.
        case seekBack(to: Int64)
        /// The skipped offsets stayed missing for `patienceNs`: hand the record on and report
        /// `count` offsets from `from` as lost.
        case deliverAfterGap(from: Int64, count: Int64)
    }

    /// The next offset expected per partition; a partition without one takes its first record as is.
    private(set) var next: [PartitionKey: Int64]
    /// Per partition with an open gap: the offset sought back to and when the gap was first seen.
    private var openGaps: [PartitionKey: (offset: Int64, since: UInt64)] = [:]
    let patienceNs: UInt64

    init(starts: [PartitionKey: Int64] = [:], patienceNs: UInt64 = 2_000_000_000) {
        next = starts.filter { $0.value >= 0 }
        self.patienceNs = patienceNs
    }

    /// Decides about one record; `nowNs` is a monotonic clock, read only when offsets are skipped.
    mutating func admit(_ key: PartitionKey, offset: Int64, nowNs: @autoclosure () -> UInt64) -> Admission {
        guard let expected = next[key] else {
            next[key] = offset + 1
            return .deliver
        }
        if offset < expected {
            // A seek back goes to the expected offset exactly, so nothing before it is read twice.
            next[key] = offset + 1
            openGaps[key] = nil
            return .deliverAfterRewind(expected: expected)
        }
        if offset == expected {
            next[key] = offset + 1
            openGaps[key] = nil
            return .deliver
        }
        let now = nowNs()
        if let gap = openGaps[key], gap.offset == expected {
            if now &- gap.since < patienceNs { return .seekBack(to: expected) }
            next[key] = offset + 1
            openGaps[key] = nil
            return .deliverAfterGap(from: expected, count: offset - expected)
        }
        openGaps[key] = (expected, now)
        return .seekBack(to: expected)
    }
}
