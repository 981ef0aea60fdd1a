import Foundation
import Testing
import TestSupport
@testable import Histogram

@Suite struct EncodingTests {
    static let percentiles = [50.0, 90, 99, 99.9]

    @Test func zigZagRoundTripsEveryWidth() throws {
        let samples: [Int64] = [0, 1, -1, 63, -64, 64, 8191, -8192, 1 << 40, -(1 << 55), Int64.max, Int64.min]
        for v in samples {
            var bytes: [UInt8] = []
            ZigZag.append(v, to: &bytes)
            #expect(bytes.count <= 9)
            var position = 0
            #expect(try bytes.withUnsafeBufferPointer { b throws(HistogramError) in try ZigZag.read(b, at: &position) } == v)
            #expect(position == bytes.count)
        }
    }

    @Test func roundTripsThroughAllForms() throws {
        var h = HDRHistogram()
        for v in latencyValues(count: 50_000, seed: 3) { h.record(v) }
        let base64 = h.encodeBase64()
        #expect(base64.hasPrefix("HISTF"))
        #expect(try HDRHistogram(base64: base64) == h)
        #expect(try HDRHistogram(encoded: h.encode()) == h)
        #expect(try HDRHistogram(encoded: h.encodeCompressed()) == h)
        let empty = HDRHistogram()
        #expect(try HDRHistogram(base64: empty.encodeBase64()) == empty)
        // A stream that inflates far beyond the first output guess (every counter 1: ~100 bytes
        // compressed, ~20 KB inflated) decodes whole.
        var flat = HDRHistogram()
        for v in 1...20_000 { flat.record(Int64(v)) }
        #expect(flat.encodeCompressed().count < 1_000)
        #expect(try HDRHistogram(encoded: flat.encodeCompressed()) == flat)
    }

    /// Merging decoded counters without a full histogram gives the same result as the full one.
    @Test func sparseCountsAddLikeTheWholeHistogram() throws {
        var h = HDRHistogram()
        for v in latencyValues(count: 20_000, seed: 5) { h.record(v) }
        let sparse = try SparseCounts(base64: h.encodeBase64())
        #expect(sparse.indexes.count == h.counts.filter { $0 != 0 }.count)
        #expect(sparse.totalCount == h.totalCount)
        #expect(HDRHistogram(sparse) == h)
        var viaFull = HDRHistogram(), viaSparse = HDRHistogram()
        for v in latencyValues(count: 5_000, seed: 6) { viaFull.record(v); viaSparse.record(v) }
        try viaFull.add(h)
        try viaSparse.add(sparse)
        #expect(viaSparse == viaFull)
        #expect(viaSparse.totalCount == 25_000)
        let other = try SparseCounts(encoded: HDRHistogram(layout: try HistogramLayout(highestTrackableValue: 1_000, significantDigits: 2)).encode())
        #expect(throws: HistogramError.self) { try viaSparse.add(other) }
    }

    @Test func malformedInputIsATypedErrorNeverACrash() throws {
        var h = HDRHistogram()
        for v in latencyValues(count: 2_000, seed: 4) { h.record(v) }
        let good = h.encodeCompressed()
        #expect(throws: HistogramError.self) { try HDRHistogram(base64: "not base64 !!") }
        #expect(throws: HistogramError.self) { try HDRHistogram(encoded: []) }
        #expect(throws: HistogramError.self) { try HDRHistogram(encoded: [0x1c, 0x84, 0x93, 0x15, 0, 0, 0, 0]) }
        #expect(throws: HistogramError.self) { try HDRHistogram(encoded: Array(good.prefix(good.count / 2))) }
        // A header that claims an enormous layout is refused before anything is allocated.
        var hostile = h.encode()
        for i in 24..<32 { hostile[i] = 0x7f }
        hostile[12...15] = [0, 0, 0, 5]
        #expect(throws: HistogramError.self) { try HDRHistogram(encoded: hostile) }

        // Random corruption: decoding either fails with a typed error or yields some histogram.
        var rng = SeededGenerator(seed: 77)
        for _ in 0..<3_000 {
            var bytes = Bool.random(using: &rng) ? good : h.encode()
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if Bool.random(using: &rng) { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &rng)) }
            _ = try? HDRHistogram(encoded: bytes)
        }
    }

    /// Found by `make fuzz`: a header with a layout near Int64.max made `max` overflow. Queries on
    /// any decodable histogram must not trap.
    @Test func extremeLayoutsFromTheFuzzerDoNotTrap() throws {
        let url = repositoryRoot.appendingPathComponent("Fuzz/corpus/histogram/regression-overflow")
        let bytes = [UInt8](try Data(contentsOf: url))
        if let h = try? HDRHistogram(encoded: bytes) {
            _ = (h.max, h.min, h.mean, h.standardDeviation, h.values(atPercentiles: [50, 99.9]), h.percentileSpectrum())
            _ = try HDRHistogram(encoded: h.encodeCompressed())
        }
        let widest = try HistogramLayout(lowestDiscernibleValue: 1 << 40, highestTrackableValue: Int64.max, significantDigits: 1)
        var h = HDRHistogram(layout: widest)
        h.record(Int64.max)
        #expect(h.max == Int64.max)
        #expect(h.value(atPercentile: 100) == Int64.max)
        #expect(h.mean > 0)
    }

    /// Ours → Python: the Python `hdrhistogram` package decodes what we encode, and finds the same
    /// counts and percentiles as when it records the same values itself.
    @Test func pythonDecodesOurEncoding() throws {
        let sets = (UInt64(21)...23).map { latencyValues(count: 100_000, seed: $0) }
        var encoded: [String] = []
        var ours: [HDRHistogram] = []
        for values in sets {
            var h = HDRHistogram()
            for v in values { h.record(v) }
            encoded.append(h.encodeBase64())
            ours.append(h)
        }
        let decoded = try python("decode", ["b64": encoded, "percentiles": Self.percentiles], as: [PythonStats].self)
        for (i, values) in sets.enumerated() {
            let direct = try python("encode", ["values": values, "percentiles": Self.percentiles], as: PythonEncoded.self)
            let py = decoded[i]
            #expect(py.total == 100_000)
            #expect(py.values == direct.values)
            #expect(py.max == direct.max)
            #expect(py.values == ours[i].values(atPercentiles: Self.percentiles))
            #expect(py.max == ours[i].max)
            #expect(py.min == ours[i].min)
            #expect(abs(py.mean - ours[i].mean) < 1e-6 * py.mean)
            #expect(abs(py.stddev - ours[i].standardDeviation) < 1e-6 * py.stddev)
        }
    }

    /// Python → ours: we decode what the Python package encodes to exactly the counts we record.
    @Test func weDecodePythonsEncoding() throws {
        let values = latencyValues(count: 30_000, seed: 31)
        let py = try python("encode", ["values": values, "percentiles": Self.percentiles], as: PythonEncoded.self)
        var ours = HDRHistogram()
        for v in values { ours.record(v) }
        let decoded = try HDRHistogram(base64: py.b64)
        #expect(decoded == ours)
        #expect(decoded.values(atPercentiles: Self.percentiles) == py.values)
    }
}

struct PythonEncoded: Decodable {
    let b64: String
    let total: Int64
    let max: Int64
    let values: [Int64]
}
