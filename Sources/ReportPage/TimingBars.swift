import Foundation
import StampedeModel

/// Where the time goes, as a stacked bar per name (and for all requests): one bar of each
/// phase's median and one of its p99 — connect and TLS (per new connection), waiting (to the
/// first byte), receiving (first byte to the end). Each segment is that phase's own percentile
/// from its merged histogram (percentiles of parts do not add up to a percentile of the whole:
/// the bar shows which phase dominates, not a request's exact total).
enum TimingBars {
    static let phases: [(label: String, color: String)] = [
        ("connect", "#9467bd"), ("TLS", "#8c564b"), ("waiting", "#1f77b4"), ("receiving", "#ff7f0e"),
    ]

    /// A row's phases in the bars' order.
    static func phases(of row: TimingRow) -> [LatencySummary?] { [row.connect, row.tls, row.waiting, row.receiving] }

    /// The chart, or nothing when the report has no timings (a report from before them).
    static func render(_ r: LoadReport) -> String {
        let rows = r.timingRows
        guard !rows.isEmpty else { return "" }
        let bars = rows.flatMap { row in [(row, "p50", \LatencySummary.p50), (row, "p99", \LatencySummary.p99)] }
        let longest = bars.map { bar in phases(of: bar.0).reduce(0) { $0 + Double($1?[keyPath: bar.2] ?? 0) } }.max() ?? 0
        let width = 760.0, left = 190.0, right = 90.0, top = 44.0, barHeight = 14.0, gap = 6.0
        let height = top + Double(bars.count) * (barHeight + gap) + Double(rows.count) * 6 + 16
        let scale = longest > 0 ? (width - left - right) / longest : 0
        var svg = "<svg class=\"chart\" data-bars=\"\(bars.count)\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" "
            + "aria-label=\"Where the time goes\" xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<text x=\"10\" y=\"14\" class=\"t\">Where the time goes (each phase's own p50 and p99)</text>"
        var x = 10.0
        for p in phases {
            svg += "<rect x=\"\(x)\" y=\"22\" width=\"10\" height=\"10\" fill=\"\(p.color)\"/><text x=\"\(x + 14)\" y=\"31\">\(p.label)</text>"
            x += 90
        }
        var y = top
        var lastRow = ""
        for (row, label, key) in bars {
            if row.name != lastRow && !lastRow.isEmpty { y += 6 }
            lastRow = row.name
            let shown = label == "p50" ? String(row.name.prefix(24)) : ""
            svg += "<text x=\"10\" y=\"\(y + 11)\">\(html(shown))</text><text x=\"\(left - 30)\" y=\"\(y + 11)\">\(label)</text>"
            var at = left, total = 0.0
            for (k, phase) in phases(of: row).enumerated() {
                guard let value = phase?[keyPath: key], value > 0 else { continue }
                let w = Double(value) * scale
                svg += "<rect class=\"seg\" data-phase=\"\(phases[k].label)\" x=\"\(String(format: "%.1f", at))\" y=\"\(y)\" width=\"\(String(format: "%.1f", Swift.max(w, 0.5)))\" "
                    + "height=\"\(barHeight)\" fill=\"\(phases[k].color)\"><title>\(html(row.name)) \(phases[k].label) \(label): \(Tables.ms(value)) ms</title></rect>"
                at += w
                total += Double(value)
            }
            svg += "<text x=\"\(String(format: "%.1f", at + 4))\" y=\"\(y + 11)\">\(Tables.ms(Int64(total))) ms</text>"
            y += barHeight + gap
        }
        return svg + "</svg>"
    }
}
