import Foundation
import Testing
import TestSupport
@testable import Histogram

@Suite struct LogTests {
    static func intervals() -> [[Int64]] {
        (UInt64(40)..<45).map { latencyValues(count: 1_000 * Int($0 - 39), seed: $0) }
    }

    @Test func writerOutputReadsBackHereAndInPython() throws {
        let start = Date(timeIntervalSince1970: 1_764_000_000.25)
        var writer = HistogramLogWriter(startTime: start)
        var all = HDRHistogram()
        for (i, values) in Self.intervals().enumerated() {
            var h = HDRHistogram()
            for v in values { h.record(v); all.record(v) }
            writer.append(h, start: Double(i), end: Double(i + 1))
        }
        #expect(writer.text.hasPrefix("#[Histogram log format version 1.3]\n#[StartTime: 1764000000.250 "))

        let entries = try HistogramLogReader.parse(writer.text)
        #expect(entries.map(\.histogram.totalCount) == [1000, 2000, 3000, 4000, 5000])
        #expect(entries[2].startTimestamp == 2 && entries[2].intervalLength == 1)
        #expect(entries[2].intervalMax == Double(entries[2].histogram.max) / 1000)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-\(UUID()).hlog")
        try writer.text.write(to: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: path) }
        let py = try python("readlog", ["path": path.path, "percentiles": [50.0, 99.0]], as: PythonLog.self)
        #expect(py.intervals == [1000, 2000, 3000, 4000, 5000])
        #expect(py.total == all.totalCount)
        #expect(py.values == all.values(atPercentiles: [50, 99]))
    }

    @Test func readsALogWrittenByPython() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-\(UUID()).hlog")
        defer { try? FileManager.default.removeItem(at: path) }
        _ = try python("writelog", ["path": path.path, "intervals": Self.intervals()], as: [String: Bool].self)
        let entries = try HistogramLogReader.parse(try String(contentsOf: path, encoding: .utf8))
        #expect(entries.count == 5)
        for (entry, values) in zip(entries, Self.intervals()) {
            var h = HDRHistogram()
            for v in values { h.record(v) }
            #expect(entry.histogram == h)
        }
    }

    @Test func malformedLinesNameTheLine() {
        #expect(throws: HistogramError.malformedLog(line: 2, reason: "expected 4 fields, found 2")) {
            try HistogramLogReader.parse("#[Histogram log format version 1.3]\n0.0,1.0\n")
        }
        #expect(throws: HistogramError.self) { try HistogramLogReader.parse("0.0,1.0,2.0,HISTFAAAgarbage\n") }
    }
}

struct PythonLog: Decodable {
    let intervals: [Int64]
    let total: Int64
    let values: [Int64]
}
