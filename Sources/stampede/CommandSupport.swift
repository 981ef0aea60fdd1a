import ArgumentParser
import Dispatch
import Foundation
import Histogram
import LoadGenerator
import ReportPage
import StampedeModel
import StampedeWire

/// Progress on stderr once a second: elapsed, req/s, p99 and errors. On a terminal one line is
/// rewritten in place; otherwise (`plain`) a line per second is printed.
final class ProgressLine {
    let enabled: Bool
    let plain: Bool
    let total: String
    private var wrote = false
    /// Appended to each line (`stampede run`'s steering: the last change, or paused).
    var note: () -> String = { "" }

    /// `scenarios`: a test of several runs until the last one ends.
    init(enabled: Bool, plain: Bool = false, config: LoadSpec, scenarios: [Scenario] = []) {
        self.enabled = enabled
        self.plain = plain
        if scenarios.count > 1 {
            let ends = scenarios.map(\.endS)
            total = ends.contains(nil) ? "" : "/\(formatSeconds(ends.compactMap { $0 }.max() ?? 0))"
            return
        }
        switch config.stop {
        case .duration(let s): total = "/\(formatSeconds(s))"
        case .requests(let n): total = " (\(n) requests)"
        case .sessions(let n): total = " (\(n) sessions)"
        case .stages(let profile): total = "/\(formatSeconds(profile.duration))"
        }
    }

    /// One line per second; with stages, what was intended beside what was achieved.
    func update(_ interval: IntervalReport, failing: ThresholdState? = nil) {
        guard enabled || plain else { return }
        let latency = interval.latency
        let p99 = latency.totalCount > 0 ? formatMicros(Double(latency.value(atPercentile: 99))) : "-"
        var line = "[\(interval.t)s\(total)] \(interval.counters.responses) req/s"
        if let rate = interval.targetRate { line += " (target \(Int(rate.rounded())))" }
        if let wanted = interval.targetConnections { line += "  \(interval.connections) connections (target \(Int(wanted.rounded())))" }
        line += "  p99 \(p99)  errors \(interval.counters.errors.total)"
        if interval.sessions != nil {
            let c = interval.counters.sessions
            line += "  sessions +\(c.started) started, \(c.completed) completed, \(c.failed) failed" + (c.dropped > 0 ? ", \(c.dropped) dropped" : "")
        }
        // The first threshold failing on the run so far.
        if let failing { line += "  FAILING \(failing.name) \(failing.value) (limit \(failing.limit))" }
        let note = note()
        if !note.isEmpty { line += "  [\(note)]" }
        if enabled {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
            wrote = true
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// The connect phase ended (shown when it took long enough to notice).
    func connected(_ phase: ConnectPhase) {
        guard (enabled || plain) && phase.seconds >= 0.5 else { return }
        let line = "connected \(phase.established) in \(String(format: "%.2f", phase.seconds))s" + (phase.failed > 0 ? ", \(phase.failed) failed" : "")
        FileHandle.standardError.write(Data(((enabled ? "\r\u{1B}[K" : "") + line + "\n").utf8))
    }

    func finish() {
        if wrote { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// An .hlog written as the run goes: one line per second of merged latency, to a file (`--hlog`)
/// and kept in memory (for `--html`).
struct HLogFile {
    let handle: FileHandle?
    var writer: HistogramLogWriter
    var written = 0

    /// - Parameter path: the file; nil keeps the log in memory only.
    init(path: String?, startTime: Date) throws {
        if let path {
            guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
                throw ValidationError("--hlog: cannot create '\(path)'")
            }
            self.handle = handle
        } else {
            handle = nil
        }
        writer = HistogramLogWriter(startTime: startTime)
        flush()
    }

    var text: String { writer.text }

    /// The second's total, then one tagged line per name (a list of requests); the intended rate
    /// of a tsunami as a comment line before them.
    /// `scenarios`: a run of several, their names (a `scenario.NAME` line each per second).
    mutating func append(_ interval: IntervalReport, scenarios: [String] = []) {
        let t = interval.t
        if let rate = interval.targetRate { writer.comment("target_rate \(String(format: "%.1f", rate)) at \(t - 1)..\(t) s") }
        writer.comment("errors \(interval.counters.errors.total) at \(t - 1)..\(t) s")
        writer.append(interval.latency, start: Double(t - 1), end: Double(t))
        for f in interval.byName { writer.append(f.latency, start: Double(t - 1), end: Double(t), tag: HistogramLogWriter.tag(f.name)) }
        if let sessions = interval.sessions { writer.append(sessions.duration, start: Double(t - 1), end: Double(t), tag: "session") }
        for (name, f) in zip(scenarios, interval.scenarios) {
            writer.append(f.latency, start: Double(t - 1), end: Double(t), tag: "scenario." + name)
        }
        flush()
    }

    /// The schedule started after the connect phase: the log's start time is that moment.
    mutating func restart(at startTime: Date) throws {
        writer = HistogramLogWriter(startTime: startTime)
        if let handle {
            try handle.truncate(atOffset: 0)
            try handle.seek(toOffset: 0)
        }
        written = 0
        flush()
    }

    private mutating func flush() {
        guard let handle else { return }
        let bytes = Array(writer.text.utf8)
        if bytes.count > written { handle.write(Data(bytes[written...])) }
        written = bytes.count
    }

    func close() throws {
        try handle?.close()
    }
}

/// SIGINT/SIGTERM: the first asks the run to stop gracefully, the second exits at once (130).
final class SignalHandlers {
    private var sources: [DispatchSourceSignal] = []
    private var count = 0

    init(onFirst: @escaping @Sendable () -> Void) {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.count += 1
                if self.count == 1 { onFirst() } else { exit(130) }
            }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        for s in sources { s.cancel() }
    }
}

/// `--junit FILE`: where the thresholds' JUnit XML goes. Checked before any load: the file's
/// directory must exist.
func checkJUnitPath(_ path: String?) throws {
    guard let path else { return }
    let directory = (path as NSString).deletingLastPathComponent
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: directory.isEmpty ? "." : directory, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw ValidationError("--junit: no directory '\(directory)' to write '\(path)' in")
    }
}

/// Writes the report's thresholds as JUnit XML (`--junit`).
func writeJUnit(_ report: LoadReport, to path: String?) throws {
    guard let path else { return }
    guard FileManager.default.createFile(atPath: path, contents: Data(JUnitReport.render(report).utf8)) else {
        throw ValidationError("--junit: cannot write '\(path)'")
    }
}

/// Judges a local run's thresholds each second on everything so far (as the orchestrator does
/// for a distributed test) and stops the run when one with `abort_on_fail` fails.
final class LiveThresholds {
    private let thresholds: [Threshold]
    private let config: LoadSpec
    private var soFar = Figures()
    /// A run of several scenarios: each one's, and its figures so far.
    private let scenarios: [Scenario]
    private var scenariosSoFar: [Figures]
    private(set) var aborted: AbortReport?
    private(set) var firstFailing: ThresholdState?

    init(_ thresholds: [Threshold], config: LoadSpec, scenarios: [Scenario] = []) {
        self.thresholds = thresholds
        self.config = config
        self.scenarios = scenarios.count > 1 ? scenarios : []
        scenariosSoFar = Array(repeating: Figures(), count: self.scenarios.count)
    }

    /// A second ended: returns true the first time a threshold asks for the run to stop.
    func judge(_ interval: IntervalReport) -> Bool {
        guard !thresholds.isEmpty || scenarios.contains(where: { !$0.thresholds.isEmpty }) else { return false }
        var verdict = LiveVerdict.empty
        do {
            if !thresholds.isEmpty {
                try LiveVerdict.accumulate(interval.figures, into: &soFar, for: thresholds, includingLatency: true)
                verdict = LiveVerdict(thresholds: thresholds, figures: soFar, elapsedS: Double(interval.t), mode: config.mode,
                                      order: config.order, firstStepName: config.requests[0].displayName)
            }
            for (k, scenario) in scenarios.enumerated() where !scenario.thresholds.isEmpty && k < interval.scenarios.count {
                try LiveVerdict.accumulate(interval.scenarios[k], into: &scenariosSoFar[k], for: scenario.thresholds, includingLatency: true)
                if let theirs = LiveVerdict.judge(scenario, figures: scenariosSoFar[k], elapsedS: Double(interval.t)) {
                    verdict.add(scenario: scenario.name, theirs)
                }
            }
        } catch { return false }
        firstFailing = verdict.states.first { $0.state == "failing" }
        guard aborted == nil, let abort = verdict.abort else { return false }
        aborted = abort
        return true
    }
}
