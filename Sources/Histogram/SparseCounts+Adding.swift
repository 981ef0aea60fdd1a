/// Sparse counters as an accumulator: what one driver's share of a test reported, kept for as
/// long as the test runs. A latency histogram's 23,552 counters fill 46 pages of 4 KiB, and a
/// share's values, few and scattered, each make a page resident: 100 drivers x 20 names x 3
/// scenarios held 835 MiB after ten seconds. Here a share costs 12 bytes per distinct value,
/// never more than about 1.5 times the dense form's 184 KiB.
extension SparseCounts {
    /// No counters yet, in `layout`.
    public init(layout: HistogramLayout) {
        self.layout = layout
    }

    /// Adds `other`'s counters (the same layout). The counters already present are found by a
    /// walk that only goes forward (both lists ascend) and added in place; new indexes, rare once
    /// a share has seen its distribution, are merged in with one pass over both lists.
    /// - Throws: `HistogramError.layoutMismatch` when the layouts differ.
    public mutating func add(_ other: SparseCounts) throws(HistogramError) {
        guard other.layout == layout else { throw .layoutMismatch(layout, other.layout) }
        guard !other.indexes.isEmpty else { return }
        totalCount &+= other.totalCount
        if indexes.isEmpty {
            // Copied to their length: a decoded message's lists have room for its whole payload.
            indexes = []; indexes.reserveCapacity(other.indexes.count); indexes.append(contentsOf: other.indexes)
            counts = []; counts.reserveCapacity(other.counts.count); counts.append(contentsOf: other.counts)
            return
        }
        var missing = 0
        indexes.withUnsafeBufferPointer { mine in
            counts.withUnsafeMutableBufferPointer { myCounts in
                var k = 0
                for j in 0..<other.indexes.count {
                    let index = other.indexes[j]
                    k = Self.firstPosition(notBelow: index, in: mine, from: k)
                    if k < mine.count && mine[k] == index { myCounts[k] &+= other.counts[j] } else { missing += 1 }
                }
            }
        }
        guard missing > 0 else { return }
        merge(other, missing: missing)
    }

    /// The first position at or after `start` whose index is at least `index`: a gallop, then a
    /// binary search, so a walk over a few new values in a long list costs their logarithms.
    @inline(__always)
    static func firstPosition(notBelow index: Int32, in list: UnsafeBufferPointer<Int32>, from start: Int) -> Int {
        var low = start, step = 1, high = start
        while high < list.count && list[high] < index {
            low = high + 1
            high = start + step
            step &<<= 1
        }
        high = Swift.min(high, list.count)
        while low < high {
            let mid = (low + high) / 2
            if list[mid] < index { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// Merges in `other`'s indexes that this list lacks (`missing` of them); the ones present were
    /// added already.
    private mutating func merge(_ other: SparseCounts, missing: Int) {
        var newIndexes: [Int32] = [], newCounts: [Int64] = []
        newIndexes.reserveCapacity(indexes.count + missing)
        newCounts.reserveCapacity(indexes.count + missing)
        var i = 0, j = 0
        while i < indexes.count || j < other.indexes.count {
            if j == other.indexes.count || (i < indexes.count && indexes[i] < other.indexes[j]) {
                newIndexes.append(indexes[i]); newCounts.append(counts[i]); i += 1
            } else if i == indexes.count || other.indexes[j] < indexes[i] {
                newIndexes.append(other.indexes[j]); newCounts.append(other.counts[j]); j += 1
            } else {
                // Present in both: added in place before the merge.
                newIndexes.append(indexes[i]); newCounts.append(counts[i]); i += 1; j += 1
            }
        }
        indexes = newIndexes
        counts = newCounts
    }
}
