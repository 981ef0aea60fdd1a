import ArgumentParser
import Foundation
import Logging

/// `--log-level` and `--log-format`: every module logs through swift-log; the process sends it all
/// to stderr, one line per event, as text or JSON.
struct LogOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(name: .customLong("log-level"), help: "Least severe level logged: trace, debug, info, notice, warning, error, critical (default: info; warning for run).")
    var level: Logger.Level?

    @Option(name: .customLong("log-format"), help: "Log lines as text or as JSON objects (one per line, for log shippers).")
    var format: Format = .text

    /// Sends every logger of the process to stderr. Call once, before anything logs.
    func bootstrap(defaultLevel: Logger.Level = .info) {
        let (level, format) = (self.level ?? defaultLevel, self.format)
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label, format: format, logLevel: level) }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// One line per event on stderr: `2026-11-25T06:30:00.123Z info stampede.orchestrator: message key=value`
/// or `{"ts":…,"level":…,"label":…,"message":…,"key":"value"}`.
struct StderrLogHandler: LogHandler {
    let label: String
    let format: LogOptions.Format
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    init(label: String, format: LogOptions.Format, logLevel: Logger.Level) {
        self.label = label
        self.format = format
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        let time = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))
        let line: String
        switch format {
        case .text:
            let pairs = all.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
            line = "\(time) \(event.level) \(label): \(event.message)\(pairs)\n"
        case .json:
            var object: [String: String] = ["ts": time, "level": event.level.rawValue, "label": label, "message": "\(event.message)"]
            for (key, value) in all where object[key] == nil { object[key] = "\(value)" }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self) + "\n"
        }
        FileHandle.standardError.write(Data(line.utf8))
    }
}
