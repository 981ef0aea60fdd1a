import ArgumentParser
import Foundation
import Histogram
import ReportPage
import StampedeModel

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two runs: rps, error rate and latency percentiles, with the change in %.",
        discussion: """
            BASE and NEW are report.json files or test reports directories. Latencies are in ms. \
            --max-regression NAME=P% fails the comparison (exit 3) when NEW is worse than BASE by \
            more than P %: higher for p50, p90, p99, p999, max and error_rate, lower for rps.

            With --history NAME, NEW is judged against the median of the last --last runs of the \
            tests named NAME (a TestConfig's `name`) found in --reports-dir: a nightly job needs \
            no baseline file of its own.

            Examples:
              stampede compare reports/before reports/after
              stampede compare before.json after.json --max-regression p99=10% \\
                  --max-regression rps=5%
              stampede compare before.json after.json --json --html compare.html
              stampede compare --history checkout-nightly --last 10 \\
                  reports/t-42 --max-regression p99=10%

            Exit codes: 0 no limit exceeded, 2 bad input, 3 a --max-regression was exceeded.
            """)

    @Argument(help: ArgumentHelp("BASE NEW: the baseline and the run to judge, each a report.json or a test's reports directory (with --history: NEW only).",
                                 valueName: "report"))
    var reports: [String] = []

    @Option(help: ArgumentHelp("Judge NEW against the median of the last runs of the tests named NAME in --reports-dir.", valueName: "name"))
    var history: String?

    @Option(help: "With --history: how many of the latest runs make the baseline (their median).")
    var last: Int = 10

    @Option(name: .customLong("reports-dir"), help: "With --history: where the runs are (an orchestrator's or stampede run's --reports-dir).")
    var reportsDir: String = "./reports"

    @Option(name: .customLong("max-regression"), help: "An allowed regression NAME=P% (repeatable): rps, error_rate, p50, p90, p99, p999, max; REQUEST:NAME=P% for one name of a list (checkout:p99=10%).")
    var maxRegression: [String] = []

    @Flag(help: "Print the comparison as JSON.")
    var json = false

    @Option(help: ArgumentHelp("Write both percentile spectra on one chart, and the table, as a self-contained HTML page.", valueName: "file"))
    var html: String?

    func run() throws {
        var limits: [ReportComparison.Limit] = []
        for text in maxRegression {
            do { limits.append(try ReportComparison.limit(parsing: text)) } catch { throw ValidationError("--max-regression: \(error.reason)") }
        }
        let newReport: LoadReport
        let base: ComparedFigures
        let baseReport: LoadReport?
        let baseLabel: String
        if let history {
            guard reports.count == 1 else { throw ValidationError("--history: give one report, NEW (got \(reports.count))") }
            newReport = try load(reports[0], argument: "NEW")
            let runs = try HistoryReader.runs(named: history, in: reportsDir, last: last, excluding: newReport.test_id)
            base = ComparedFigures(median: runs)
            baseReport = nil
            baseLabel = "the median of the last \(runs.count) run(s) of \(history)"
        } else {
            guard reports.count == 2 else { throw ValidationError("give BASE and NEW (two reports), or --history NAME and NEW (got \(reports.count))") }
            let b = try load(reports[0], argument: "BASE")
            newReport = try load(reports[1], argument: "NEW")
            base = ComparedFigures(b)
            baseReport = b
            baseLabel = "\(b.test_id) (base)"
        }
        let new = ComparedFigures(newReport)
        do { try ReportComparison.checkNames(limits, base: base, new: new) } catch { throw ValidationError("--max-regression: \(error.reason)") }
        let comparison = ReportComparison(base: base, new: new, limits: limits)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(comparison), as: UTF8.self))
        } else {
            print("Comparing \(baseLabel) with \(newReport.test_id) (new)")
            print("  " + "".padding(toLength: 28, withPad: " ", startingAt: 0) + ["base", "new", "change", "limit"].map { $0.leftPadded(to: 12) }.joined())
            for row in comparison.rows {
                let label = row.label
                let value = row.display
                let change = row.change_pct.map { String(format: "%+.1f%%", $0) } ?? "+inf"
                print("  " + String(label.prefix(27)).padding(toLength: 28, withPad: " ", startingAt: 0)
                      + [value(row.base), value(row.new), change, row.limit_pct.map { String(format: "%g%%", $0) } ?? ""].map { $0.leftPadded(to: 12) }.joined()
                      + (row.regressed ? "  REGRESSION" : ""))
            }
            print(comparison.passed ? "No regression beyond the limits."
                  : "Regressed: " + comparison.regressions.map(\.label).joined(separator: ", "))
        }
        if let html {
            guard let baseReport else { throw ValidationError("--html: draws two reports' spectra; with --history there is no single base report") }
            let page = try ReportPage.comparison(base: baseReport, new: newReport, comparison: comparison)
            guard FileManager.default.createFile(atPath: html, contents: Data(page.utf8)) else { throw ValidationError("--html: cannot write '\(html)'") }
        }
        if !comparison.passed {
            printError("stampede compare: regressed beyond --max-regression: "
                       + comparison.regressions.map { "\($0.label) \($0.change_pct.map { String(format: "%+.1f%%", $0) } ?? "+inf") (limit \(String(format: "%g", $0.limit_pct ?? 0))%)" }.joined(separator: ", "))
            throw ExitCode(3)
        }
    }

    /// A report.json, or the one in a reports directory.
    private func load(_ path: String, argument: String) throws -> LoadReport {
        var isDirectory: ObjCBool = false
        let file = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
            ? URL(fileURLWithPath: path).appendingPathComponent("report.json").path : path
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("\(argument): cannot read '\(file)'") }
        do { return try JSONDecoder().decode(LoadReport.self, from: data) } catch let error as DecodingError {
            throw ValidationError("\(argument): '\(file)' is not a Stampede report (\(Self.why(error)))")
        } catch {
            throw ValidationError("\(argument): '\(file)' is not a Stampede report")
        }
    }

    /// A decoding error in words: which field, and what was wrong with it.
    static func why(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .dataCorrupted(let c) where c.codingPath.isEmpty: return "not JSON"
        case .dataCorrupted(let c): return "\(path(c)) is not valid"
        case .keyNotFound(let key, let c): return "no '\((c.codingPath + [key]).map(\.stringValue).joined(separator: "."))' field"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "'\(path(c))' has the wrong type"
        @unknown default: return "unreadable"
        }
    }
}
