import Foundation
import StampedeModel

/// The report's tables: figures as the report JSON has them, so the page and the file agree.
enum Tables {
    static func row(_ cells: [String], header: Bool = false) -> String {
        let tag = header ? "th" : "td"
        return "<tr>" + cells.map { "<\(tag)>\($0)</\(tag)>" }.joined() + "</tr>"
    }

    static func ms(_ us: Int64) -> String { String(format: "%.3f", Double(us) / 1000) }

    static func summary(_ r: LoadReport) -> String {
        let l = r.latency_us
        var out = "<h2>Summary</h2><table>"
        out += row(["requests", "responses", "rps", "duration s", "errors", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "mean ms"], header: true)
        out += row([String(r.requests), String(r.responses), String(format: "%.1f", r.rps), String(format: "%.3f", r.duration_s),
                    String(r.errors.total), ms(l.p50), ms(l.p90), ms(l.p99), ms(l.p999), ms(l.max), String(format: "%.3f", l.mean / 1000)])
        out += "</table>"
        if let s = r.service_time_us {
            out += "<table>" + row(["service time", "p50 ms", "p90 ms", "p99 ms", "max ms"], header: true)
                + row(["(from the actual send)", ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)]) + "</table>"
        }
        if let phase = r.connect_phase_s {
            let c = r.connect_time_us
            out += "<table>" + row(["connect phase", "seconds", "p50 ms", "p99 ms", "max ms", "first connects failed", "late s"], header: true)
                + row(["(before the schedule)", String(format: "%.3f", phase), c.map { ms($0.p50) } ?? "–", c.map { ms($0.p99) } ?? "–",
                       c.map { ms($0.max) } ?? "–", String(r.connect_phase_errors ?? 0), r.connect_late_s.map { String(format: "%.3f", $0) } ?? "0"])
                + "</table>"
        }
        let kinds = r.errors.byKind
        out += "<h2>Errors and status codes</h2><table>" + row(kinds.map(\.0), header: true) + row(kinds.map { String($0.1) }) + "</table>"
        let codes = r.status_codes.byCode.sorted { $0.key < $1.key }
        if !codes.isEmpty { out += "<table>" + row(codes.map(\.key), header: true) + row(codes.map { String($0.value) }) + "</table>" }
        if let stale = r.retried_stale, stale > 0 { out += "<p>\(stale) request(s) resent once after a stale keep-alive close.</p>" }
        return out
    }

    /// Sessions: how each ended, their durations, and the failures by step and kind.
    static func sessions(_ r: LoadReport) -> String {
        guard let s = r.sessions else { return "" }
        var out = "<h2>Sessions</h2><table>" + row(["started", "completed", "failed", "interrupted", "dropped", "error rate"], header: true)
            + row([String(s.started), String(s.completed), String(s.failed_total), String(s.interrupted), String(s.dropped),
                   String(format: "%.2f %%", s.error_rate * 100)]) + "</table>"
        out += "<table>" + row(["", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "mean ms"], header: true)
        for (label, l) in [("duration (arrival to last response)", s.duration_us), ("active (without think time)", s.active_us),
                           ("start delay (waiting for a connection)", s.start_delay_us)] {
            guard let l else { continue }
            out += row([label, ms(l.p50), ms(l.p90), ms(l.p99), ms(l.p999), ms(l.max), String(format: "%.3f", l.mean / 1000)])
        }
        out += "</table>"
        if !s.failed.isEmpty {
            out += "<table>" + row(["failed at", "by kind"], header: true)
            for step in s.failed.keys.sorted() {
                out += row([html(step), s.failed[step]!.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")])
            }
            out += "</table>"
        }
        return out
    }

    static func byName(_ r: LoadReport) -> String {
        guard let byName = r.by_name, !byName.isEmpty else { return "" }
        var out = "<h2>Per name</h2><table>" + row(["name", "requests", "responses", "errors", "status codes", "p50 ms", "p90 ms", "p99 ms", "max ms"], header: true)
        for name in byName.keys.sorted() {
            let n = byName[name]!
            let codes = n.status_codes.byCode.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
            out += row([html(name), String(n.requests), String(n.responses), String(n.errors.total), codes,
                        ms(n.latency_us.p50), ms(n.latency_us.p90), ms(n.latency_us.p99), ms(n.latency_us.max)])
        }
        return out + "</table>"
    }

    /// Where the time goes, per name and for all requests: each phase's p50 and p99, and the
    /// connections opened (the figures under the stacked bars).
    static func timings(_ r: LoadReport) -> String {
        let rows = r.timingRows
        guard !rows.isEmpty else { return "" }
        var out = "<h2>Where the time goes</h2><table>" + row(["name", "waiting p50 ms", "waiting p99 ms", "receiving p50 ms", "receiving p99 ms",
                                                               "new connections", "connect p50 ms", "connect p99 ms", "TLS p50 ms", "TLS p99 ms"], header: true)
        for t in rows {
            func pair(_ s: LatencySummary?) -> [String] { [s.map { ms($0.p50) } ?? "–", s.map { ms($0.p99) } ?? "–"] }
            out += row([html(t.name)] + pair(t.waiting) + pair(t.receiving) + [String(t.connects)] + pair(t.connect) + pair(t.tls))
        }
        return out + "</table><p class=\"sub\">waiting: last byte sent to first byte back (time to first byte); receiving: first byte to the end; "
            + "connect and TLS: once per new connection, under the name of its first request.</p>"
    }

    /// A test of named scenarios: a row each (its model, when it began, its counts and
    /// percentiles, what it intended, its thresholds).
    static func scenarios(_ r: LoadReport) -> String {
        guard let scenarios = r.scenarios, !scenarios.isEmpty else { return "" }
        var out = "<h2>Scenarios</h2><table>" + row(["scenario", "mode", "from s", "requests", "responses", "req/s", "errors", "p50 ms",
                                                     "p90 ms", "p99 ms", "max ms", "intended", "unsent", "sessions", "thresholds"], header: true)
        for name in scenarios.keys.sorted() {
            let s = scenarios[name]!
            let verdict = s.thresholds.results.isEmpty ? "–" : s.thresholds.passed ? "passed" : "<span class=\"fail\">FAILED</span>"
            let sessions = s.sessions.map { "\($0.completed) of \($0.started)" } ?? "–"
            out += row([html(name), html(s.mode), String(format: "%g", s.start_after_s ?? 0), String(s.requests), String(s.responses),
                        String(format: "%.1f", s.rps), String(s.errors.total), ms(s.latency_us.p50), ms(s.latency_us.p90),
                        ms(s.latency_us.p99), ms(s.latency_us.max), s.intended.map(String.init) ?? "–", s.unsent.map(String.init) ?? "–",
                        sessions, verdict])
        }
        return out + "</table>"
    }

    static func drivers(_ rows: [DriverRow]) -> String {
        guard !rows.isEmpty else { return "" }
        var out = "<h2>Drivers</h2><table>" + row(["driver", "requests", "responses", "start lag ms", "state", "first error"], header: true)
        for d in rows {
            out += row([html(d.id), String(d.requests), String(d.responses), d.startLagMs.map { String(format: "%.1f", $0) } ?? "–",
                        d.failed ? "<span class=\"fail\">failed</span>" : "done", html(d.firstError ?? "")])
        }
        return out + "</table>"
    }

    static func thresholds(_ r: LoadReport) -> String {
        guard !r.thresholds.results.isEmpty else { return "" }
        var out = "<h2>Thresholds</h2><table>" + row(["name", "limit", "actual", "result"], header: true)
        for t in r.thresholds.results {
            out += row([t.name, String(format: "%g", t.limit), String(format: "%.3f", t.actual),
                        t.passed ? "<span class=\"pass\">passed</span>" : "<span class=\"fail\">FAILED</span>"])
        }
        return out + "</table>"
    }

    static func search(_ r: LoadReport) -> String {
        guard let s = r.search else { return "" }
        var out = "<h2>Capacity search</h2><p>" + (s.max_rate.map { "Max rate: <b>\(Int($0)) req/s</b> with every SLO held" } ?? "<b>No tested rate held the SLOs</b>")
            + (s.note.map { " (\(html($0)))" } ?? "") + "</p><table>"
        out += row(["rate", "achieved req/s", "p99 ms", "error rate", "responses", "result"], header: true)
        for step in s.steps {
            out += row([String(Int(step.rate)), String(format: "%.1f", step.achieved_rps), String(format: "%.3f", step.p99_ms),
                        String(format: "%.2f%%", step.error_rate * 100), String(step.responses),
                        (step.passed ? "pass" : "FAIL " + step.failed.joined(separator: ", ")) + (step.note.map { ": " + html($0) } ?? "")])
        }
        return out + "</table>"
    }

    static func redistributed(_ r: LoadReport) -> String {
        guard let list = r.redistributed, !list.isEmpty else { return "" }
        var out = "<h2>Redistributed requests</h2><table>" + row(["from", "requests", "to"], header: true)
        for x in list {
            out += row([html(x.from), String(x.requests), html(x.to.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))])
        }
        return out + "</table>"
    }
}
