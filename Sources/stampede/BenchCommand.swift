import ArgumentParser
import Dispatch
import Foundation
import Histogram
import LoadGenerator
import ReportPage
import StampedeModel
import StampedeWire

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load a URL (or a mix of requests) from this machine and report latency percentiles, like wrk.",
        discussion: """
            Avalanche (the default) keeps every connection busy: the next request leaves as soon \
            as the previous response ends. Tsunami paces each connection (--delay-ms) or the whole \
            run (--rate) and measures latency from the time a request was meant to leave, so a \
            server stall shows up in the percentiles instead of silently slowing the load \
            (coordinated omission); the uncorrected service time is reported beside it.

            Examples:
              stampede bench http://127.0.0.1:8080/ --connections 50 --duration 10
              stampede bench http://127.0.0.1:8080/ -t 2 -c 100 -d 30s
              stampede bench http://127.0.0.1:8080/ --requests 100000 --json > report.json
              stampede bench https://localhost:8443/ --mode tsunami -R 2000 -d 30s \\
                  --hlog run.hlog
              stampede bench http://127.0.0.1:8080/api -m POST --body @payload.json \\
                  -H 'Content-Type: application/json' --threshold p99_ms=50
              stampede bench http://127.0.0.1:8080/ --mode tsunami -R 500 -d 1m --dry-run
              stampede bench --targets mix.json --data users.csv -c 50 -d 30s --seed 7
              stampede bench 'http://127.0.0.1:8080/items/{{seq}}' --requests 1000
              stampede bench http://127.0.0.1:8080/ -d 1m \\
                  --threshold 'p99_ms=50,abort-after=10s' --junit junit.xml
              stampede bench shop.json -H 'Authorization: Bearer T' \\
                  --threshold 'buy/p99_ms=800'

            --targets FILE sends a mix of requests instead of one URL: a JSON list \
            ([{"name": "home", "url": "http://h/", "weight": 7, "expect_status": [200]}, ...]) or \
            Vegeta's target format. URLs, header values and bodies may hold templates: {{seq}}, \
            {{driver}}, {{scenario}}, {{conn}}, {{rand_int:LO:HI}}, {{uuid}}, {{row.COLUMN}} (from --data). \
            See docs/workload.md.

            Exit codes: 0 success, 1 nothing succeeded (e.g. the target is unreachable), \
            2 bad flags, 3 a --threshold failed.
            """)

    @Argument(help: "The http:// or https:// URL to load (or give --targets), or a test file: a TestConfig JSON document, scenarios and all (docs/scenarios.md).")
    var url: String?

    @OptionGroup var load: LoadOptions

    @Option(name: [.customShort("t"), .long], help: "Reactor threads (each owns its share of the connections).")
    var threads: Int = 1

    @Flag(help: "Print the report JSON (see docs/reports.md; with the base64 HDR histogram) instead of the summary.")
    var json = false

    @Flag(help: "Also print the latency distribution (50% to 100%, as wrk --latency prints it), from the whole histogram.")
    var latency = false

    @Option(help: "Write per-second latency histograms to FILE (HdrHistogram log format 1.3).")
    var hlog: String?

    @Option(help: ArgumentHelp("Write the report as one self-contained HTML page (charts inline, opens offline).", valueName: "file"))
    var html: String?

    @Option(help: ArgumentHelp("Write the thresholds as JUnit XML (one test case each, failures with the measured value) for CI.",
                               valueName: "file"))
    var junit: String?

    @Flag(help: "Pin reactor thread i to CPU i.")
    var pin = false

    @Flag(name: .customLong("dry-run"), help: "Check the flags and print the test as a TestConfig (JSON for POST /tests), then exit.")
    var dryRun = false

    func run() throws {
        if latency && json { throw ValidationError("--latency: --json already carries the whole histogram (its `histogram` field): give one") }
        try checkJUnitPath(junit)
        let testID: String
        var name: String?
        let scenarios: [Scenario]
        let thresholds: [Threshold]
        let document: JSONValue
        if TestFile.isTestFile(url), let path = url {
            let file = try TestFile(path: path, options: load, testID: "bench")
            testID = file.config.testID
            name = file.config.name
            scenarios = file.config.scenarios.map { s in
                var s = s
                s.load.threads = threads
                s.load.pinThreads = pin
                return s
            }
            thresholds = file.config.thresholds
            document = file.config.original
        } else {
            var (config, given) = try load.spec(url: url, threads: threads, defaultConnections: LoadSpec.benchConnections)
            config.pinThreads = pin
            testID = "bench"
            scenarios = [Scenario(load: config)]
            thresholds = given
            name = load.name
            document = TestConfig.json(testID: "bench", name: load.name, load: config, drivers: nil, thresholds: given)
        }
        if dryRun {
            print(document.text)
            return
        }
        let run: LoadRun
        do { run = try LoadRun(scenarios: scenarios) } catch let error as ConfigError {
            throw ValidationError("\(LoadOptions.flag(error.setting)): \(error.reason)")
        } catch {
            printError("stampede: \(error)")
            throw ExitCode(1)
        }
        try execute(run, testID: testID, name: name, thresholds: thresholds, document: document)
    }

    private func execute(_ run: LoadRun, testID: String, name: String?, thresholds: [Threshold], document: JSONValue) throws {
        let config = run.config
        for note in run.notes { printError("note: \(note)") }
        var hlogWriter = hlog != nil || html != nil ? try HLogFile(path: hlog, startTime: Date()) : nil
        let progress = ProgressLine(enabled: isatty(STDERR_FILENO) == 1, config: config, scenarios: run.scenarios)
        let signals = SignalHandlers { run.interrupt() }
        if !json {
            if run.scenarios.count == 1 {
                print("Running \(describe(config)) @ \(where_(config))\n  \(config.threads) thread(s) and \(config.connections) connection(s)")
            } else {
                print("Running \(run.scenarios.count) scenarios on \(config.threads) thread(s):")
                for s in run.scenarios { print("  " + describe(s)) }
            }
        }

        var hlogError: Error?
        let live = LiveThresholds(thresholds, config: config, scenarios: run.scenarios)
        let result = try run.run(onConnected: { phase in
            progress.connected(phase)
            do { try hlogWriter?.restart(at: Date()) } catch { hlogError = error }
        }) { interval in
            if live.judge(interval) { run.interrupt() }
            progress.update(interval, failing: live.firstFailing)
            hlogWriter?.append(interval, scenarios: run.scenarios.count > 1 ? run.scenarios.map(\.name) : [])
        }
        progress.finish()
        signals.cancel()
        try hlogWriter?.close()
        if let hlogError { throw ValidationError("--hlog: cannot rewrite '\(hlog ?? "")': \(hlogError)") }

        var report = LoadReport(testID: testID == "bench" ? "bench-\(Int(result.startedAt.timeIntervalSince1970))" : testID, result: result,
                                thresholds: thresholds)
        if let aborted = live.aborted { report.markAborted(aborted) }
        report.name = name
        if let html {
            let pretty = try JSONSerialization.data(withJSONObject: try JSONSerialization.jsonObject(with: Data(document.text.utf8)),
                                                    options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            let page = try ReportPage.render(ReportInputs(report: report, configJSON: String(decoding: pretty, as: UTF8.self),
                                                          hlog: hlogWriter?.text))
            guard FileManager.default.createFile(atPath: html, contents: Data(page.utf8)) else {
                throw ValidationError("--html: cannot write '\(html)'")
            }
        }
        try writeJUnit(report, to: junit)
        if json {
            print(report.json())
        } else {
            printSummary(report,
                         tls: result.counters.tlsHandshakes > 0 ? (result.counters.tlsHandshakes, result.counters.tlsResumed) : nil,
                         distribution: latency ? result.latency : nil)
        }
        if result.counters.responses == 0 {
            printError("stampede: no response was received" + (result.firstError.map { ": \($0)" } ?? ""))
            throw ExitCode(1)
        }
        if !report.thresholds.passed || report.aborted != nil { throw ExitCode(3) }
    }
}

/// A scenario in a line: its name, model, load, and when it begins.
func describe(_ scenario: Scenario) -> String {
    let load = scenario.load
    let begins = scenario.startAfterS > 0 ? ", from \(formatSeconds(scenario.startAfterS))" : ""
    return "\(scenario.name): \(describe(load)) @ \(where_(load)), \(load.connections) connection(s)\(begins)"
}

func describe(_ config: LoadSpec) -> String {
    let stop: String
    switch config.stop {
    case .requests(let n): stop = "\(n)-request"
    case .sessions(let n): stop = "\(n)-session"
    case .duration(let s): stop = "\(formatSeconds(s))"
    case .stages(let profile):
        let targets = ([profile.start] + profile.stages.map(\.target)).map { String(Int($0.rounded())) }.joined(separator: "→")
        let unit = config.mode == .tsunami ? (config.pacesSessions ? "sessions/s" : "requests/s") : "connections"
        return "\(formatSeconds(profile.duration)) \(config.mode.rawValue) test in \(profile.stages.count) stage(s) (\(targets) \(unit))"
    }
    switch config.pacing {
    case .delayMs(let d): return "\(stop) tsunami test (one request per connection every \(d) ms)"
    case .rate(let r): return "\(stop) tsunami test (\(r) \(config.pacesSessions ? "sessions/s, each on a free connection" : "requests/s"))"
    case nil: return "\(stop) avalanche test"
    }
}

/// The URL, or for a list of requests the origin and how many.
func where_(_ config: LoadSpec) -> String {
    config.listForm ? "\(config.label), \(config.order.rawValue) order" : config.label
}

func formatSeconds(_ s: Double) -> String { s == s.rounded() ? "\(Int(s))s" : String(format: "%.2fs", s) }

/// 590us, 1.20ms, 2.80s.
func formatMicros(_ us: Double) -> String {
    if us < 1000 { return String(format: "%.0fus", us) }
    if us < 1_000_000 { return String(format: "%.2fms", us / 1000) }
    return String(format: "%.2fs", us / 1_000_000)
}

func formatBytes(_ bytes: Double) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var value = bytes
    var unit = 0
    while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
    return String(format: "%.2f%@", value, units[unit])
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// - Parameter distribution: `--latency`: the run's latency histogram, printed as a percentile spectrum.
/// The report's own `first_error`, `error` and `interrupted` are printed as they stand.
func printSummary(_ report: LoadReport, tls: (handshakes: Int, resumed: Int)?,
                  distribution: HDRHistogram? = nil) {
    func row(_ name: String, _ s: LatencySummary) -> String {
        let cells = [Double(s.min), Double(s.p50), Double(s.p90), Double(s.p99), Double(s.p999), Double(s.max), s.mean]
        return name.padding(toLength: 14, withPad: " ", startingAt: 0)
            + cells.map { formatMicros($0).leftPadded(to: 10) }.joined()
    }
    if report.responses > 0 {
        print("  " + "".padding(toLength: 14, withPad: " ", startingAt: 0)
              + ["min", "p50", "p90", "p99", "p99.9", "max", "mean"].map { $0.leftPadded(to: 10) }.joined())
        print("  " + row("Latency", report.latency_us))
        if let service = report.service_time_us { print("  " + row("Service time", service)) }
        if let distribution { printDistribution(distribution, corrected: report.service_time_us != nil) }
    }
    if let phase = report.connect_phase_s {
        let times = report.connect_time_us.map { t in
            ", each p50 \(formatMicros(Double(t.p50))) p99 \(formatMicros(Double(t.p99))) max \(formatMicros(Double(t.max)))"
        } ?? ""
        let failed = (report.connect_phase_errors ?? 0) > 0 ? ", \(report.connect_phase_errors!) failed" : ""
        print("  Connect phase: \(String(format: "%.2f", phase))s\(times)\(failed)")
        if let t = report.connect_time_us, t.max >= 1_000_000 {
            print("    (connects of 1 s or more waited for a SYN retransmit: the server's listen backlog overflowed)")
        }
    }
    let e = report.errors
    print("  \(report.requests) requests, \(report.responses) responses in \(String(format: "%.2f", report.duration_s))s, \(formatBytes(Double(report.bytes_read ?? 0))) read")
    if e.total > 0 {
        print("  Errors: " + e.byKind.filter { $0.count > 0 }.map { k in
            k.kind == "check" ? "check \(k.count) (status \(e.check_status), body \(e.check_body))" : "\(k.kind) \(k.count)"
        }.joined(separator: ", "))
        if let first = report.first_check_failure { print("  First failed check: \(first)") }
    }
    if let intended = report.intended, let unsent = report.unsent, unsent > 0 {
        // What the connections could carry at the service time seen: the reason, in numbers.
        let serviceUs = report.service_time_us?.mean ?? report.latency_us.mean
        let carry = serviceUs > 0 ? String(format: ": %d connections at about %@ per response carry about %.0f req/s",
                                           report.connections ?? 0, formatMicros(serviceUs), Double(report.connections ?? 0) * 1e6 / serviceUs) : ""
        print("  Sent \(report.requests) of \(intended) intended (\(unsent) unsent)\(carry); add connections, or the server is the limit")
    }
    let codes = report.status_codes.byCode.sorted { $0.key < $1.key }
    if !codes.isEmpty { print("  Status codes: " + codes.map { "\($0.key): \($0.value)" }.joined(separator: ", ")) }
    if let sessions = report.sessions { printSessions(sessions) }
    if let byName = report.by_name {
        printByName(byName)
        if let seed = report.seed { print("  Seed: \(seed) (--seed \(seed) repeats the draw)") }
    }
    printTimings(report)
    if let stale = report.retried_stale, stale > 0 {
        print("  Retried: \(stale) request(s) resent once after the server closed an idle keep-alive connection")
    }
    if let firstError = report.first_error { print("  First error: \(firstError)") }
    if let error = report.error { print("  Error: \(error)") }
    if let tls { print("  TLS: \(tls.handshakes) handshakes, \(tls.resumed) resumed") }
    if report.interrupted == true { print("  Interrupted: stopped early by a signal") }
    print("Requests/sec: \(String(format: "%10.2f", report.rps))")
    // A run shorter than the report's millisecond has no rate worth printing (it read 72 GB/s).
    let transfer = report.duration_s >= 0.001 ? formatBytes(Double(report.bytes_read ?? 0) / report.duration_s) : "n/a"
    print("Transfer/sec: \(transfer.leftPadded(to: 10))")
    if let scenarios = report.scenarios { printScenarios(scenarios) }
    for t in report.thresholds.results {
        print("Threshold \(t.name) <= \(t.limit)".replacingOccurrences(of: "min_rps <=", with: "min_rps >=")
              + ": \(t.passed ? "passed" : "FAILED") (actual \(String(format: "%.3f", t.actual)))")
    }
    if let aborted = report.aborted { print(aborted.sentence) }
}

/// A section per scenario: its counts, rate, latency and errors, its sessions and names.
func printScenarios(_ scenarios: [String: LoadReport]) {
    for name in scenarios.keys.sorted() {
        let r = scenarios[name]!
        let begins = (r.start_after_s ?? 0) > 0 ? ", from \(formatSeconds(r.start_after_s!))" : ""
        print("Scenario \(name) (\(r.mode)\(begins)): \(r.requests) requests, \(r.responses) responses in \(String(format: "%.2f", r.duration_s))s, \(String(format: "%.2f", r.rps)) req/s, \(r.errors.total) errors")
        if r.responses > 0 {
            let l = r.latency_us
            print("  Latency   p50 \(formatMicros(Double(l.p50)))  p90 \(formatMicros(Double(l.p90)))  p99 \(formatMicros(Double(l.p99)))  max \(formatMicros(Double(l.max)))")
        }
        if let intended = r.intended { print("  Intended \(intended), unsent \(r.unsent ?? 0)") }
        if let sessions = r.sessions { printSessions(sessions) }
        if let byName = r.by_name, byName.count > 1 { printByName(byName) }
    }
}

/// `--latency`: the percentile spectrum of the run's latency histogram, as wrk prints it.
func printDistribution(_ h: HDRHistogram, corrected: Bool) {
    guard h.totalCount > 0 else { return }
    let percentiles = [50, 75, 90, 99, 99.9, 99.99, 99.999]
    print("  Latency Distribution" + (corrected ? " (from the intended send time)" : ""))
    for (p, value) in zip(percentiles, h.values(atPercentiles: percentiles)) {
        print("  " + String(format: "%7.3f%%", p) + formatMicros(Double(value)).leftPadded(to: 10))
    }
    print("  " + String(format: "%7.3f%%", 100.0) + formatMicros(Double(h.max)).leftPadded(to: 10))
}

/// Sessions: how many started and how each ended, their durations, and the failures by step.
func printSessions(_ s: SessionReport) {
    var line = "  Sessions: \(s.started) started, \(s.completed) completed, \(s.failed_total) failed"
    if s.interrupted > 0 { line += ", \(s.interrupted) interrupted by the end of the run" }
    if s.dropped > 0 { line += ", \(s.dropped) dropped (no free connection within the timeout)" }
    print(line + (s.failed_total > 0 ? String(format: " (%.2f %% of those ended failed)", s.error_rate * 100) : ""))
    func cells(_ l: LatencySummary) -> String {
        [l.min, l.p50, l.p90, l.p99, l.p999, l.max].map { formatMicros(Double($0)).leftPadded(to: 10) }.joined()
            + formatMicros(l.mean).leftPadded(to: 10)
    }
    if let d = s.duration_us { print("  " + "Session".padding(toLength: 14, withPad: " ", startingAt: 0) + cells(d) + "  (arrival to last response)") }
    if let a = s.active_us { print("  " + "  active".padding(toLength: 14, withPad: " ", startingAt: 0) + cells(a) + "  (without think time)") }
    if let w = s.start_delay_us { print("  " + "  start delay".padding(toLength: 14, withPad: " ", startingAt: 0) + cells(w) + "  (waiting for a free connection)") }
    for step in s.failed.keys.sorted() {
        let kinds = s.failed[step]!.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("    failed at \(step): \(kinds)")
    }
}

/// One line per name: counts, errors, latency percentiles.
func printByName(_ byName: [String: NameReport]) {
    let width = Swift.min(40, Swift.max(4, byName.keys.map(\.count).max() ?? 4)) + 2
    let checks = byName.values.contains { $0.errors.check > 0 }
    print("  " + "Name".padding(toLength: width, withPad: " ", startingAt: 0)
          + ["requests", "responses", "errors", "p50", "p90", "p99", "max"].map { $0.leftPadded(to: 10) }.joined()
          + (checks ? "  failed checks (status, body)" : ""))
    for name in byName.keys.sorted() {
        let r = byName[name]!
        let counts = [r.requests, r.responses, r.errors.total].map { String($0).leftPadded(to: 10) }.joined()
        let latency = r.responses > 0
            ? [r.latency_us.p50, r.latency_us.p90, r.latency_us.p99, r.latency_us.max].map { formatMicros(Double($0)).leftPadded(to: 10) }.joined()
            : ""
        let failed = r.errors.check > 0 ? "  \(r.errors.check) (\(r.errors.check_status), \(r.errors.check_body))" : ""
        print("  " + String(name.prefix(40)).padding(toLength: width, withPad: " ", startingAt: 0) + counts + latency + failed)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
