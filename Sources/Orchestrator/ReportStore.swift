import Foundation
import Histogram
import LoadGenerator
import Messaging

/// Writes a finished test's files under `<reports-dir>/<test_id>/`: `report.json`,
/// `drivers/<driver_id>.json` and `latency.hlog`. Each file is written to a temporary name and
/// renamed, so a reader never sees half a report.
struct ReportStore {
    let directory: URL

    func write(_ run: TestRun, report: LoadReport) throws {
        let base = directory.appendingPathComponent(run.id, isDirectory: true)
        let drivers = base.appendingPathComponent("drivers", isDirectory: true)
        try FileManager.default.createDirectory(at: drivers, withIntermediateDirectories: true)
        try atomicWrite(Array(report.json().utf8), to: base.appendingPathComponent("report.json"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        for (id, final) in run.finals {
            try atomicWrite([UInt8](try encoder.encode(final)), to: drivers.appendingPathComponent("\(safe(id)).json"))
        }
        var log = HistogramLogWriter(startTime: Date(timeIntervalSince1970: Double(run.startAtMs) / 1000))
        for t in run.compactSeconds.keys.sorted() {
            let second = run.compactSeconds[t]!
            log.append(encoded: second.encoded, max: second.max, start: Double(t - 1), end: Double(t))
        }
        try atomicWrite(Array(log.text.utf8), to: base.appendingPathComponent("latency.hlog"))
    }

    /// A driver id as a file name: path separators and dots at the start replaced.
    private func safe(_ id: String) -> String {
        let mapped = String(id.map { $0 == "/" || $0 == "\\" || $0 == "\0" ? "_" : $0 })
        return mapped.hasPrefix(".") ? "_" + mapped.dropFirst() : mapped
    }

    private func atomicWrite(_ bytes: [UInt8], to url: URL) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        try Data(bytes).write(to: temporary)
        if rename(temporary.path, url.path) != 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    }
}
