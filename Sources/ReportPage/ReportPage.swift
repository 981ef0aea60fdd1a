import Foundation
import Histogram
import StampedeModel

/// What a test's HTML report is rendered from: its report and `latency.hlog` (and, when there,
/// its config and per-driver files), so `stampede report DIR` re-renders it for any old test.
public struct ReportInputs {
    public var report: LoadReport
    /// The test's config as JSON text, shown as given.
    public var configJSON: String?
    public var hlog: String?
    public var drivers: [DriverRow]

    public init(report: LoadReport, configJSON: String? = nil, hlog: String? = nil, drivers: [DriverRow] = []) {
        self.report = report; self.configJSON = configJSON; self.hlog = hlog; self.drivers = drivers
    }
}

/// One driver's share of a test, as its final message says.
public struct DriverRow: Sendable {
    public var id: String
    public var requests: Int
    public var responses: Int
    public var startLagMs: Double?
    public var failed: Bool
    public var firstError: String?

    public init(id: String, requests: Int, responses: Int, startLagMs: Double?, failed: Bool, firstError: String?) {
        self.id = id; self.requests = requests; self.responses = responses; self.startLagMs = startLagMs
        self.failed = failed; self.firstError = firstError
    }
}

/// A test's report as one self-contained HTML file: inline SVG charts and styles, a few lines of
/// inline script for the log-scale toggle, nothing fetched. The same inputs give the same bytes.
public enum ReportPage {
    /// - Throws: `HistogramError` when the report's histogram or the hlog does not decode.
    /// "rate 1000", "buy: rate 300", "paused", "resumed".
    static func markLabel(_ c: ChangeRecord) -> String {
        let what: String
        switch (c.field, c.to) {
        case ("paused", .flag(let on)): what = on ? "paused" : "resumed"
        case (let field, .number(let v)): what = "\(field.replacingOccurrences(of: "_", with: " ")) \(v == v.rounded() ? String(Int(v)) : String(format: "%.1f", v))"
        default: what = c.field
        }
        return c.scenario == Scenario.defaultName ? what : "\(c.scenario): \(what)"
    }

    public static func render(_ inputs: ReportInputs) throws -> String {
        let r = inputs.report
        let seconds = try PerSecond(hlog: inputs.hlog ?? "")
        let latency = try HDRHistogram(base64: r.histogram)
        var body = "<h1>Stampede report: \(html(r.test_id))</h1>"
        body += "<p class=\"sub\">\(html(r.mode)) test @ \(html(r.target)), started \(html(r.started_at)), \(r.drivers.count) driver(s)"
            + (r.partial ? ", <b>partial</b> (failed: \(html(r.failed_drivers.joined(separator: ", "))))" : "")
            + (r.error.map { ", <b>error: \(html($0))</b>" } ?? "") + "</p>"
        body += Tables.summary(r)
        body += "<label class=\"toggle\"><input type=\"checkbox\" onchange=\"document.body.classList.toggle('log', this.checked)\"> logarithmic latency axes</label>"
        if let changes = r.changes, !changes.isEmpty {
            body += "<p class=\"sub\">Load changed while it ran: " + changes.map { html("at \(String(format: "%.1f", $0.at_s)) s: " + Self.markLabel($0)) }
                .joined(separator: "; ") + (r.paused_s.map { "; paused \(String(format: "%.1f", $0)) s in all" } ?? "") + "</p>"
        }
        body += "<div class=\"charts\">"
        // Steering: each change marked where it applied on the per-second charts (their x is the second's end).
        let marks = (r.changes ?? []).map { c in (x: c.at_s, label: Self.markLabel(c)) }
        var rate = Charts.rate(seconds)
        rate.marks = marks
        body += rate.render()
        for log in [false, true] {
            var chart = Charts.latencyPerSecond(seconds, log: log)
            chart.marks = marks
            body += chart.render(cssClass: log ? "logv" : "lin")
        }
        body += Charts.spectrum(latency, byName: [], log: false).render(cssClass: "lin")
        body += Charts.spectrum(latency, byName: [], log: true).render(cssClass: "logv")
        body += Charts.distribution(latency).render()
        body += TimingBars.render(r)
        if let byName = r.by_name, !byName.isEmpty {
            let named = try byName.keys.sorted().map { ($0, try HDRHistogram(base64: byName[$0]!.histogram)) }
            body += Charts.spectrum(nil, byName: named, log: false).render(cssClass: "lin")
            body += Charts.spectrum(nil, byName: named, log: true).render(cssClass: "logv")
        }
        if let scenarios = r.scenarios, !scenarios.isEmpty {
            body += Charts.rateByScenario(seconds).render()
            let named = try scenarios.keys.sorted().map { ($0, try HDRHistogram(base64: scenarios[$0]!.histogram)) }
            body += Charts.spectrum(nil, byName: named, log: false, title: "Latency by percentile, per scenario").render(cssClass: "lin")
            body += Charts.spectrum(nil, byName: named, log: true, title: "Latency by percentile, per scenario").render(cssClass: "logv")
        }
        if let sessions = r.sessions {
            body += Charts.sessionsPerSecond(seconds, sessions: sessions).render()
            body += Charts.sessionDuration(seconds, log: false).render(cssClass: "lin")
            body += Charts.sessionDuration(seconds, log: true).render(cssClass: "logv")
        }
        body += "</div>"
        body += Tables.scenarios(r) + Tables.sessions(r) + Tables.byName(r) + Tables.timings(r) + Tables.drivers(inputs.drivers) + Tables.thresholds(r) + Tables.search(r) + Tables.redistributed(r)
        if let config = inputs.configJSON { body += "<h2>Config</h2><pre>\(html(ConfigRedaction.redacted(config)))</pre>" }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Stampede report \(html(r.test_id))</title>
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <style>\(style)</style></head>
            <body>\(body)
            <p class="sub">Percentiles come from the merged HdrHistogram (1 µs … 1 h, 3 significant digits), never averaged.</p>
            </body></html>

            """
    }

    static let style = """
        body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1600px}h1{font-size:20px;margin:0 0 4px}
        h2{font-size:16px;margin:22px 0 6px}.sub{color:#666;margin:0 0 12px}table{border-collapse:collapse;margin:4px 0}
        td,th{border-bottom:1px solid #ddd;padding:3px 10px;text-align:right}th:first-child,td:first-child{text-align:left}
        .charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:12px}
        svg.chart{width:100%;height:auto;border:1px solid #e4e4e4;border-radius:4px;background:#fff;font-size:11px}
        svg .t{font-weight:600;font-size:13px}svg .ax line{stroke:#888}svg .grid{stroke:#eee}
        body:not(.log) .logv{display:none}body.log .lin{display:none}.toggle{display:block;margin:12px 0}
        pre{background:#f6f6f6;padding:8px;overflow:auto}.fail{color:#b33;font-weight:600}.pass{color:#2a7}
        """
}

/// Each second of the test from `latency.hlog`: the untagged (whole-test) histograms, and the
/// comment lines Stampede writes beside them (errors, intended rate).
struct PerSecond {
    var seconds: [(t: Int, histogram: HDRHistogram)] = []
    var errors: [Int: Int] = [:]
    var targetRate: [Int: Double] = [:]
    /// `Tag=session` lines: the durations of the sessions that ended in each second.
    var sessions: [(t: Int, histogram: HDRHistogram)] = []
    /// `Tag=scenario.NAME` lines: each scenario's seconds.
    var scenarios: [String: [(t: Int, histogram: HDRHistogram)]] = [:]

    init(hlog: String) throws {
        for entry in try HistogramLogReader.parse(hlog) {
            let t = Int(entry.startTimestamp.rounded()) + 1
            if entry.tag == nil { seconds.append((t, entry.histogram)) } else if entry.tag == "session" { sessions.append((t, entry.histogram)) }
            if let tag = entry.tag, tag.hasPrefix("scenario.") { scenarios[String(tag.dropFirst("scenario.".count)), default: []].append((t, entry.histogram)) }
        }
        // "#errors 4 at 2..3 s", "#target_rate 625.0 at 0..1 s": the value and the second's end.
        for line in hlog.split(separator: "\n") where line.hasPrefix("#errors ") || line.hasPrefix("#target_rate ") {
            let words = line.split(separator: " ")
            guard words.count >= 4, let value = Double(words[1]),
                  let end = words[3].split(separator: ".").last.flatMap({ Int($0) }) else { continue }
            if line.hasPrefix("#errors ") { errors[end] = Int(value) } else { targetRate[end] = value }
        }
    }
}

extension ReportPage {
    /// `stampede compare --html`: both runs' percentile spectra on one chart, and the table.
    public static func comparison(base: LoadReport, new: LoadReport, comparison: ReportComparison) throws -> String {
        let named = [("base: \(base.test_id)", try HDRHistogram(base64: base.histogram)), ("new: \(new.test_id)", try HDRHistogram(base64: new.histogram))]
        var body = "<h1>Stampede comparison: \(html(base.test_id)) → \(html(new.test_id))</h1>"
        body += "<label class=\"toggle\"><input type=\"checkbox\" onchange=\"document.body.classList.toggle('log', this.checked)\"> logarithmic latency axis</label>"
        body += "<div class=\"charts\">" + Charts.spectrum(nil, byName: named, log: false, title: "Latency by percentile, both runs").render(cssClass: "lin")
            + Charts.spectrum(nil, byName: named, log: true, title: "Latency by percentile, both runs").render(cssClass: "logv") + "</div>"
        body += "<h2>Figures</h2><table>" + Tables.row(["", "base", "new", "change", "limit", ""], header: true)
        for row in comparison.rows {
            body += Tables.row([html(row.label), row.display(row.base), row.display(row.new),
                                row.change_pct.map { String(format: "%+.1f%%", $0) } ?? "+inf", row.limit_pct.map { String(format: "%g%%", $0) } ?? "",
                                row.regressed ? "<span class=\"fail\">REGRESSION</span>" : ""])
        }
        body += "</table><p class=\"sub\">Latencies from each run's merged histogram; error rates in % of requests.</p>"
        return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Stampede comparison</title><style>\(style)</style></head><body>\(body)</body></html>\n"
    }
}
