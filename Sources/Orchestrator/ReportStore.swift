import Foundation
import Histogram
import Messaging
import ReportPage
import StampedeModel
import StampedeWire

/// Writes a finished test's files under `<reports-dir>/<test_id>/`: `report.json`,
/// `drivers/<driver_id>.json` and `latency.hlog`; and each test's state, `test.json`, from its
/// creation on, so a restarted orchestrator knows every test and picks up the running ones. Each
/// file is written to a temporary name and renamed, so a reader never sees half a file.
struct ReportStore {
    let directory: URL
    /// Renders `report.html` pages off the reactor thread (a 1,000-name page took ~0.3 s there).
    let pages = PageWriter()

    /// `test.json`: what a restarted orchestrator needs to rebuild a test.
    struct TestState: Codable {
        var test_id: String
        /// The TestConfig as received (validated again on restore).
        var config: String
        var status: String
        var created_at_ms: Int64
        var drivers: [String]
        var start_at_ms: Int64
        var triggered_at_ms: Int64?
        var failed_drivers: [String]
        var error: String?
        /// Every driver's share: part 1 its own, later parts handed over from failed drivers.
        var shares: [StoredShare]
        var redistributed: [Redistribution]
        var stopped_at_ms: Int64?
        /// A capacity search: the steps judged so far (a restarted orchestrator goes on from them).
        var search_steps: [SearchStep]?
        /// Drivers' clock offsets used for their start times (absent in older files: none).
        var clock_offsets_ms: [String: Double]?
        var refused_drivers: [String: String]?
        /// The threshold that stopped the test (absent: none did).
        var aborted: AbortReport?
    }

    struct StoredShare: Codable {
        var driver: String
        var part: Int
        var requests: Int?
        var start_at_ms: Int64
        /// Absent in files written before shares kept their place: the driver's own position.
        var shard: Int?
        var shards: Int?
        var seq_start: Int?
    }

    func saveState(_ run: TestRun) throws {
        let base = directory.appendingPathComponent(run.id, isDirectory: true)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let state = TestState(test_id: run.id, config: run.definition.original.text, status: run.status.rawValue,
                              created_at_ms: run.createdAtMs, drivers: run.assigned, start_at_ms: run.startAtMs,
                              triggered_at_ms: run.triggeredAtMs, failed_drivers: run.failedDrivers.sorted(), error: run.error,
                              shares: run.shares.sorted { $0.key < $1.key }.map {
                                  StoredShare(driver: $0.key.driver, part: $0.key.part, requests: $0.value.requests, start_at_ms: $0.value.startAtMs,
                                              shard: $0.value.shard, shards: $0.value.shards, seq_start: $0.value.seqStart)
                              },
                              redistributed: run.redistributed, stopped_at_ms: run.stoppedAtMs, search_steps: run.search?.steps,
                              clock_offsets_ms: run.clockOffsetsMs.isEmpty ? nil : run.clockOffsetsMs,
                              refused_drivers: run.refusedDrivers.isEmpty ? nil : run.refusedDrivers, aborted: run.aborted)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // The config as given, secrets and data included (a restart needs them): its owner's only.
        try atomicWrite([UInt8](try encoder.encode(state)), to: base.appendingPathComponent("test.json"), mode: 0o600)
    }

    /// Every test found under the directory, oldest first; what cannot be read is reported to
    /// `skipped` (path and reason) and left out.
    func loadTests(skipped: (String, String) -> Void) -> [TestRun] {
        let entries = (try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)) ?? []
        var runs: [TestRun] = []
        for base in entries {
            if let run = loadTest(base, skipped: skipped) { runs.append(run) }
        }
        return runs.sorted { ($0.createdAtMs, $0.id) < ($1.createdAtMs, $1.id) }
    }

    /// One test's directory read back (`loadTests` for one), or nil, reported to `skipped`.
    func loadTest(id: String, skipped: (String, String) -> Void) -> TestRun? {
        loadTest(directory.appendingPathComponent(id, isDirectory: true), skipped: skipped)
    }

    private func loadTest(_ base: URL, skipped: (String, String) -> Void) -> TestRun? {
        let file = base.appendingPathComponent("test.json")
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        do {
            let state = try JSONDecoder().decode(TestState.self, from: data)
            let definition: TestConfig
            do { definition = try TestConfig(json: Array(state.config.utf8)) { state.test_id } } catch {
                throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "config: \(error)"])
            }
            var report: LoadReport?
            if let data = FileManager.default.contents(atPath: base.appendingPathComponent("report.json").path) {
                report = try JSONDecoder().decode(LoadReport.self, from: data)
            }
            let run = TestRun(restoring: state, definition: definition, report: report)
            return run
        } catch {
            skipped(file.path, "\(error)")
            return nil
        }
    }

    func write(_ run: TestRun, report: LoadReport) throws {
        let base = directory.appendingPathComponent(run.id, isDirectory: true)
        let drivers = base.appendingPathComponent("drivers", isDirectory: true)
        try FileManager.default.createDirectory(at: drivers, withIntermediateDirectories: true)
        try atomicWrite(Array(report.json().utf8), to: base.appendingPathComponent("report.json"))
        // The thresholds for CI (`GET /tests/{id}/junit.xml`).
        try atomicWrite(Array(JUnitReport.render(report).utf8), to: base.appendingPathComponent("junit.xml"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        for (share, final) in run.finals {
            let name = share.part == 1 ? safe(share.driver) : "\(safe(share.driver)).part\(share.part)"
            try atomicWrite([UInt8](try encoder.encode(final)), to: drivers.appendingPathComponent("\(name).json"))
        }
        var log = HistogramLogWriter(startTime: Date(timeIntervalSince1970: Double(run.startAtMs) / 1000))
        // Seconds still being encoded when the test ended are encoded here (this is off the reactor).
        for t in Set(run.compactIntervals.keys).union(run.encodingSeconds.keys).sorted() {
            let second = run.compactIntervals[t] ?? CompactInterval(encoding: run.encodingSeconds[t]!.interval)
            if let rate = second.targetRate { log.comment("target_rate \(String(format: "%.1f", rate)) at \(t - 1)..\(t) s") }
            log.comment("errors \(second.errors) at \(t - 1)..\(t) s")
            log.append(encoded: second.encoded, max: second.max, start: Double(t - 1), end: Double(t))
            // A list of requests: one tagged line per name beside the untagged total.
            for name in second.byName.keys.sorted() {
                let named = second.byName[name]!
                log.append(encoded: named.encoded, max: named.max, start: Double(t - 1), end: Double(t), tag: HistogramLogWriter.tag(name))
            }
            // Sessions: their durations, ended in this second.
            if let sessions = second.sessions {
                log.append(encoded: sessions.encoded, max: sessions.max, start: Double(t - 1), end: Double(t), tag: "session")
            }
            for name in second.scenarios.keys.sorted() {
                let one = second.scenarios[name]!
                log.append(encoded: one.encoded, max: one.max, start: Double(t - 1), end: Double(t), tag: "scenario." + name)
            }
        }
        try atomicWrite(Array(log.text.utf8), to: base.appendingPathComponent("latency.hlog"))
    }

    /// `report.html`, from the files `write` left (a page that cannot be rendered does not make
    /// the test fail: its figures are in report.json).
    func writePage(_ run: TestRun) throws {
        try Self.renderPage(in: directory.appendingPathComponent(run.id, isDirectory: true))
    }

    /// `writePage` on the page writer's thread; `failed` hears of a page that could not be written.
    func writePageInBackground(_ run: TestRun, failed: @escaping @Sendable (any Error) -> Void) {
        let base = directory.appendingPathComponent(run.id, isDirectory: true)
        pages.enqueue { do { try Self.renderPage(in: base) } catch { failed(error) } }
    }

    private static func renderPage(in base: URL) throws {
        try atomicWrite(Array(try ReportPage.render(directory: base).utf8), to: base.appendingPathComponent("report.html"))
    }

    /// A driver id as a file name: path separators and dots at the start replaced.
    private func safe(_ id: String) -> String {
        let mapped = String(id.map { $0 == "/" || $0 == "\\" || $0 == "\0" ? "_" : $0 })
        return mapped.hasPrefix(".") ? "_" + mapped.dropFirst() : mapped
    }

    func atomicWrite(_ bytes: [UInt8], to url: URL, mode: mode_t? = nil) throws {
        try Self.atomicWrite(bytes, to: url, mode: mode)
    }

    static func atomicWrite(_ bytes: [UInt8], to url: URL, mode: mode_t? = nil) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
        try Data(bytes).write(to: temporary)
        if let mode, chmod(temporary.path, mode) != 0 {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        if rename(temporary.path, url.path) != 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    }
}

/// One background thread that renders report pages in the order the tests ended, so the reactor
/// thread never waits on one; `waitUntilWritten` for whoever must see them on disk.
final class PageWriter: Sendable {
    private let queue = DispatchQueue(label: "stampede.report-pages")
    private let group = DispatchGroup()

    func enqueue(_ work: @escaping @Sendable () -> Void) {
        queue.async(group: group, execute: work)
    }

    /// Returns once every page queued so far is written.
    func waitUntilWritten() { group.wait() }
}
