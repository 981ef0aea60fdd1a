import ArgumentParser
import Dispatch
import Foundation
import Histogram
import LoadGenerator

/// A live progress line on stderr when it is a terminal: elapsed, req/s, p99 and errors, once a second.
final class ProgressLine {
    let enabled: Bool
    let total: String
    private var wrote = false

    init(enabled: Bool, config: LoadConfig) {
        self.enabled = enabled
        switch config.stop {
        case .duration(let s): total = "/\(formatSeconds(s))"
        case .requests(let n): total = " (\(n) requests)"
        }
    }

    func update(_ interval: IntervalReport) {
        guard enabled else { return }
        let c = interval.counters
        let p99 = interval.latency.totalCount > 0 ? formatMicros(Double(interval.latency.value(atPercentile: 99))) : "-"
        let line = "[\(interval.second)s\(total)] \(c.responses) req/s  p99 \(p99)  errors \(c.errors.total)"
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        wrote = true
    }

    func finish() {
        if wrote { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

/// An .hlog file written as the run goes: one line per second of merged latency.
struct HLogFile {
    let handle: FileHandle
    var writer: HistogramLogWriter
    var written = 0

    init(path: String, startTime: Date) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("--hlog: cannot create '\(path)'")
        }
        self.handle = handle
        writer = HistogramLogWriter(startTime: startTime)
        flush()
    }

    mutating func append(_ interval: IntervalReport) {
        writer.append(interval.latency, start: Double(interval.second - 1), end: Double(interval.second))
        flush()
    }

    private mutating func flush() {
        let bytes = Array(writer.text.utf8)
        if bytes.count > written { handle.write(Data(bytes[written...])) }
        written = bytes.count
    }

    func close(duration: Double) throws {
        try handle.close()
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
