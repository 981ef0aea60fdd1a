import Testing
@testable import Histogram

/// `SparseCounts` as an accumulator (a share's reported seconds in the orchestrator): adding
/// decoded histograms in any batches gives exactly the dense histogram's counters.
struct SparseAddingTests {
    /// A histogram of `values` random values in `range`, as a message carries it (decoded).
    static func decoded(_ values: Int, in range: ClosedRange<Int64>, seed: inout UInt64) throws -> (SparseCounts, HDRHistogram) {
        var h = HDRHistogram()
        for _ in 0..<values {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            h.record(range.lowerBound + Int64((seed >> 33) % UInt64(range.upperBound - range.lowerBound + 1)), count: 1)
        }
        return (try SparseCounts(encoded: h.encodeCompressed()), h)
    }

    /// Scattered seconds, narrow ones, empty ones and repeats, added one after another: the sum's
    /// indexes ascend without repeats, and equal the dense sum's non-zero counters and total.
    @Test(arguments: [1, 2, 3])
    func addsExactlyAsTheDenseHistogram(seed start: UInt64) throws {
        var seed = start
        var sparse = SparseCounts(layout: .latency)
        var dense = HDRHistogram()
        let shapes: [(Int, ClosedRange<Int64>)] = [(3, 800...60_000), (200, 1_000...1_200), (0, 1...1), (50, 1...10_000_000), (1, 59_999...60_000)]
        for round in 0..<40 {
            let (values, range) = shapes[round % shapes.count]
            let (one, h) = try Self.decoded(values, in: range, seed: &seed)
            try sparse.add(one)
            try dense.add(h)
        }
        #expect(zip(sparse.indexes, sparse.indexes.dropFirst()).allSatisfy { $0 < $1 })
        let nonZero = dense.counts.enumerated().filter { $0.element != 0 }
        #expect(sparse.indexes == nonZero.map { Int32($0.offset) })
        #expect(sparse.counts == nonZero.map(\.element))
        #expect(sparse.totalCount == dense.totalCount)
        #expect(HDRHistogram(sparse).counts == dense.counts)
    }

    @Test func anotherLayoutIsRefused() throws {
        var sparse = SparseCounts(layout: .latency)
        let other = try HistogramLayout(lowestDiscernibleValue: 1, highestTrackableValue: 1_000, significantDigits: 2)
        var h = HDRHistogram(layout: other)
        h.record(5, count: 1)
        #expect(throws: HistogramError.self) { try sparse.add(try SparseCounts(encoded: h.encode())) }
        #expect(sparse.indexes.isEmpty && sparse.totalCount == 0)
    }

    /// The forward search finds the first position not below an index from anywhere in a list.
    @Test func theForwardSearchFindsTheFirstPositionNotBelow() {
        let list: [Int32] = [2, 3, 5, 8, 13, 21, 34, 55]
        list.withUnsafeBufferPointer { buffer in
            for start in 0...list.count {
                for index in Int32(0)...60 {
                    let expected = list.indices.first { $0 >= start && list[$0] >= index } ?? list.count
                    #expect(SparseCounts.firstPosition(notBelow: index, in: buffer, from: start) == expected, "from \(start) for \(index)")
                }
            }
        }
    }
}
