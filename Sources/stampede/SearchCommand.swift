import ArgumentParser
import Foundation
import Histogram
import LoadGenerator
import StampedeModel

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find the highest request rate a service takes while its SLOs hold.",
        discussion: """
            Runs open-model (tsunami) steps of --step-s seconds: from --start-rate the rate doubles \
            until an SLO breaks (or --max-rate), then the search bisects between the last rate that \
            held and the first that broke, to within 5 %. Latency is measured from each request's \
            intended send time, so a server that falls behind breaks a latency SLO instead of \
            quietly lowering the rate. A step must also send 95 % of its rate; one that cannot says \
            whether the connections or the driver were the limit.

            Examples:
              stampede search http://127.0.0.1:8080/ --slo p99_ms=50
              stampede search http://127.0.0.1:8080/ --slo p99_ms=20 \\
                  --slo error_rate=0.01 --max-rate 50000 --step-s 10 -c 200
              stampede search --targets mix.json --slo p99_ms=100 --json > search.json
              stampede search --targets visit.json --order sequence \\
                  --session-rate on --slo session_p99_ms=2000 -c 500

            With --session-rate on (and --order sequence) the rates are sessions per \
            second, each session a user's pass through the list (docs/sessions.md).

            Exit codes: 0 a rate was found, 2 bad flags, 3 no tested rate held the SLOs, 1 nothing \
            was received at all.
            """)

    @Argument(help: "The http:// or https:// URL to load (or give --targets).")
    var url: String?

    @OptionGroup var load: LoadOptions

    @Option(name: .customLong("slo"), help: "An SLO NAME=VALUE (repeatable): p50_ms, p90_ms, p99_ms, p999_ms, max_ms, error_rate; with --order sequence also session_p99_ms, session_error_rate.")
    var slo: [String] = []

    @Option(name: .customLong("start-rate"), parsing: .unconditional, help: "The first step's rate in requests/s.")
    var startRate: Double = CapacitySearch.defaultStartRate

    @Option(name: .customLong("max-rate"), parsing: .unconditional, help: "The highest rate to try, requests/s.")
    var maxRate: Double = CapacitySearch.defaultMaxRate

    @Option(name: .customLong("step-s"), parsing: .unconditional, help: "Seconds each step lasts.")
    var stepS: Double = CapacitySearch.defaultStepS

    @Option(name: [.customShort("t"), .long], help: "Reactor threads.")
    var threads: Int = 1

    @Flag(help: "Print the report JSON, with `search`, instead of the table.")
    var json = false

    @Option(help: ArgumentHelp("Write the search as JUnit XML (one test case per step, and one that fails when no rate held) for CI.",
                               valueName: "file"))
    var junit: String?

    func run() throws {
        try checkJUnitPath(junit)
        for (given, flag) in [(load.requests != nil, "--requests"), (load.duration != nil, "--duration"), (load.delayMs != nil, "--delay-ms"),
                              (load.rate != nil, "--rate"), (!load.stages.isEmpty, "--stage"), (!load.thresholds.isEmpty, "--threshold"),
                              (load.mode != .avalanche, "--mode"), (load.sessionRate.map { $0 != "on" } ?? false, "--session-rate R")] where given {
            throw ValidationError("\(flag): the search sets the load (tsunami steps of --step-s seconds); use --slo, --start-rate, --max-rate")
        }
        var slos: [Threshold] = []
        for text in slo {
            do { slos.append(try Threshold(parsing: text)) } catch { throw ValidationError("--slo: \(error.reason)") }
        }
        var search: CapacitySearch
        do {
            search = try CapacitySearch(slo: slos, startRate: startRate, maxRate: maxRate, stepS: stepS)
        } catch {
            let flags: [LoadSetting: String] = [.slo: "--slo", .startRate: "--start-rate", .maxRate: "--max-rate", .stepS: "--step-s"]
            throw ValidationError("\(flags[error.setting] ?? "--slo"): \(error.reason)")
        }
        var stepLoad = load
        stepLoad.mode = .tsunami
        stepLoad.rate = search.firstRate
        stepLoad.duration = Seconds(argument: String(stepS))
        var (base, _) = try stepLoad.spec(url: url, threads: threads, defaultConnections: LoadSpec.benchConnections, searching: true)
        do { try Threshold.checkSessions(slos, order: base.order) } catch { throw ValidationError("--slo: \(error.reason)") }

        let out = json ? FileHandle.standardError : FileHandle.standardOutput
        func say(_ text: String) { out.write(Data((text + "\n").utf8)) }
        say("Capacity search @ \(where_(base)), SLO \(search.slo.map { "\($0.name.rawValue) <= \($0.value)" }.joined(separator: ", ")); "
            + "\(formatSeconds(stepS)) steps, \(base.connections) connections")
        say("  " + ["rate", "achieved", "p99", "errors", "responses"].map { $0.leftPadded(to: 10) }.joined() + "  result")

        var counters = LoadCounters()
        var latency = HDRHistogram()
        let startedAt = Date()
        var rate: Double? = search.firstRate
        var lastReport: LoadReport?
        var firstError: String?
        while let r = rate {
            base.pacing = .rate(r)
            // {{seq}} and data rows go on from the steps before: unique within the search.
            base.shard = Shard(index: 0, count: 1, start: counters.requests)
            let run = try LoadRun(config: base)
            // Every step has the same connections: say the set-up notes once.
            if lastReport == nil { for note in run.notes { printError("note: \(note)") } }
            let result = try run.run()
            firstError = firstError ?? result.firstError
            let report = LoadReport(testID: "search", result: result)
            counters += result.counters
            try latency.add(result.latency)
            let step = search.step(rate: r, report: report, connections: base.connections, busiest: result.busiest,
                                   pacesSessions: base.pacesSessions)
            let verdict = step.passed ? "pass" : "FAIL" + (step.failed.isEmpty ? "" : " (\(step.failed.joined(separator: ", ")))")
            say("  " + [String(Int(r)), String(format: "%.1f", step.achieved_rps), step.responses > 0 ? formatMicros(step.p99_ms * 1000) : "-",
                        String(format: "%.2f%%", step.error_rate * 100), String(step.responses)].map { $0.leftPadded(to: 10) }.joined()
                + "  " + verdict + (step.note.map { ": \($0)" } ?? ""))
            lastReport = report
            rate = search.record(step)
        }
        let result = search.report
        if let max = result.max_rate {
            let broke = result.steps.filter { !$0.passed && $0.rate > max }.min { $0.rate < $1.rate }
            let unit = base.pacesSessions ? "sessions/s" : "req/s"
            say("Max rate: \(Int(max)) \(unit) with every SLO held"
                + (broke.map { "; \(Int($0.rate)) \(unit) broke \($0.failed.isEmpty ? "its rate" : $0.failed.joined(separator: ", "))" } ?? "")
                + (result.note.map { " (\($0))" } ?? ""))
        } else {
            say("No tested rate held the SLOs: \(result.note ?? "")")
        }
        var report = LoadReport(testID: "search-\(Int(startedAt.timeIntervalSince1970))", mode: .tsunami,
                                target: lastReport?.target ?? base.target.description, startedAt: startedAt,
                                duration: Date().timeIntervalSince(startedAt), drivers: ["local"], counters: counters,
                                latency: latency, serviceTime: nil)
        report.connections = base.connections
        report.seed = lastReport?.seed
        report.search = result
        try writeJUnit(report, to: junit)
        if json { print(report.json()) }
        if counters.responses == 0 {
            printError("stampede: no response was received" + (firstError.map { ": \($0)" } ?? ""))
            throw ExitCode(1)
        }
        if result.max_rate == nil { throw ExitCode(3) }
    }
}
