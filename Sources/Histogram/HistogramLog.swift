import Foundation

/// One interval of an HdrHistogram log: start (seconds, relative to the log's base time), length
/// (seconds), the interval's max in the log's max unit, and the histogram.
public struct HistogramLogEntry: Sendable, Equatable {
    public var tag: String?
    public var startTimestamp: Double
    public var intervalLength: Double
    public var intervalMax: Double
    public var histogram: HDRHistogram

    public init(tag: String? = nil, startTimestamp: Double, intervalLength: Double,
                intervalMax: Double, histogram: HDRHistogram) {
        self.tag = tag
        self.startTimestamp = startTimestamp
        self.intervalLength = intervalLength
        self.intervalMax = intervalMax
        self.histogram = histogram
    }
}

/// Writes HdrHistogram log format 1.3 text (what `HistogramLogProcessor`, HistogramLogAnalyzer and
/// Python's `HistogramLogReader` read). Timestamps are relative to `startTime`, which is also the
/// `BaseTime`. Not thread-safe; the caller owns the text or the file it goes to.
public struct HistogramLogWriter {
    /// Divides histogram values for the max column: 1000 turns microseconds into milliseconds.
    public let maxValueUnitRatio: Double
    public let startTime: Date
    public private(set) var text: String = ""

    public init(startTime: Date, maxValueUnitRatio: Double = 1000) {
        self.startTime = startTime
        self.maxValueUnitRatio = maxValueUnitRatio
        let seconds = String(format: "%.3f", startTime.timeIntervalSince1970)
        text += "#[Histogram log format version 1.3]\n"
        text += "#[StartTime: \(seconds) (seconds since epoch), \(UTCTimestamp.rfc3339(startTime))]\n"
        text += "#[BaseTime: \(seconds) (seconds since epoch)]\n"
        text += "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"
    }

    /// Appends an interval line; `start` and `end` are seconds since `startTime`.
    public mutating func append(_ histogram: HDRHistogram, start: Double, end: Double, tag: String? = nil) {
        append(encoded: histogram.encodeBase64(), max: histogram.max, start: start, end: end, tag: tag)
    }

    /// A comment line (`#...`), which readers skip.
    public mutating func comment(_ text: String) {
        self.text += "#" + text.replacingOccurrences(of: "\n", with: " ") + "\n"
    }

    /// A name as a tag readers accept: HdrHistogram's readers split lines on commas and
    /// whitespace, so those become `_` ("GET /items" is tagged `GET_/items`).
    public static func tag(_ name: String) -> String {
        String(name.map { $0 == "," || $0.isWhitespace ? "_" : $0 })
    }

    /// Appends an interval already encoded (base64 V2 compressed) with its max value.
    public mutating func append(encoded: String, max: Int64, start: Double, end: Double, tag: String? = nil) {
        let prefix = tag.map { "Tag=\($0)," } ?? ""
        text += prefix + String(format: "%.3f,%.3f,%.3f,", start, end - start, Double(max) / maxValueUnitRatio)
        text += encoded + "\n"
    }
}

/// Reads HdrHistogram log text (format 1.2/1.3; tagged or untagged lines).
public enum HistogramLogReader {
    /// Parses every interval line. Comment lines and the legend are skipped.
    /// - Throws: `HistogramError.malformedLog` naming the line for a bad number or histogram.
    public static func parse(_ text: String) throws(HistogramError) -> [HistogramLogEntry] {
        var entries: [HistogramLogEntry] = []
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            var line = Substring(raw.trimmingCharacters(in: .whitespaces))
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("\"StartTimestamp\"") { continue }
            var tag: String?
            if line.hasPrefix("Tag=") {
                guard let comma = line.firstIndex(of: ",") else {
                    throw .malformedLog(line: lineNumber, reason: "tag without fields")
                }
                tag = String(line[line.index(line.startIndex, offsetBy: 4)..<comma])
                line = line[line.index(after: comma)...]
            }
            let fields = line.split(separator: ",", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count == 4 else {
                throw .malformedLog(line: lineNumber, reason: "expected 4 fields, found \(fields.count)")
            }
            guard let start = Double(fields[0]), let length = Double(fields[1]), let max = Double(fields[2]) else {
                throw .malformedLog(line: lineNumber, reason: "timestamp, length or max is not a number")
            }
            let histogram: HDRHistogram
            do { histogram = try HDRHistogram(base64: String(fields[3])) } catch {
                throw .malformedLog(line: lineNumber, reason: "\(error)")
            }
            entries.append(HistogramLogEntry(tag: tag, startTimestamp: start, intervalLength: length,
                                             intervalMax: max, histogram: histogram))
        }
        return entries
    }
}
