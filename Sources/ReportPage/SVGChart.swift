import Foundation

/// A line chart as inline SVG: nothing to fetch, so a report opens from `file://` with no
/// network. Lines are straight between measured points (never smoothed); the y axis is linear or
/// logarithmic, the x axis linear or (for percentile spectra) logarithmic in 1/(1−p).
struct SVGChart {
    struct Series {
        let label: String
        let color: String
        let points: [(x: Double, y: Double)]
        var dashed = false
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    /// Vertical marks at x with a label (steering: each change to the running load).
    var marks: [(x: Double, label: String)] = []
    var logX = false
    var logY = false
    /// Tick labels for the x axis (value → text); nil: numbers.
    var xTickText: ((Double) -> String)?

    static let width = 760.0, height = 280.0
    static let left = 64.0, right = 16.0, top = 36.0, bottom = 40.0

    var pointCount: Int { series.reduce(0) { $0 + $1.points.count } }

    func render(cssClass: String = "") -> String {
        let all = series.flatMap(\.points).filter { (!logX || $0.x > 0) && (!logY || $0.y > 0) }
        var svg = "<svg class=\"chart \(cssClass)\" data-points=\"\(all.count)\" viewBox=\"0 0 \(Int(Self.width)) \(Int(Self.height))\" "
            + "role=\"img\" aria-label=\"\(html(title))\" xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<text x=\"\(Int(Self.left))\" y=\"14\" class=\"t\">\(html(title))</text>"
        guard let minX0 = all.map(\.x).min(), let maxX0 = all.map(\.x).max(), let maxY0 = all.map(\.y).max() else {
            return svg + "<text x=\"300\" y=\"140\">no data</text></svg>"
        }
        let minY0 = logY ? (all.map(\.y).min() ?? 1) : 0
        func scale(_ v: Double, log: Bool) -> Double { log ? Foundation.log10(Swift.max(v, 1e-9)) : v }
        let (x0, x1) = (scale(minX0, log: logX), Swift.max(scale(maxX0, log: logX), scale(minX0, log: logX) + 1e-9))
        // A linear y axis runs from 0 to a whole number of 1-2-5 steps above the highest point.
        let yStep = logY ? 0 : Self.niceStep(Swift.max(maxY0, 1e-9) * 1.05 / 4)
        let y0 = scale(minY0, log: logY)
        let y1 = logY ? Swift.max(scale(maxY0, log: logY), y0 + 1) : Swift.max((maxY0 * 1.05 / yStep).rounded(.up), 1) * yStep
        let w = Self.width - Self.left - Self.right, h = Self.height - Self.top - Self.bottom
        func px(_ x: Double) -> Double { Self.left + (scale(x, log: logX) - x0) / (x1 - x0) * w }
        func py(_ y: Double) -> Double { Self.top + h - (scale(y, log: logY) - y0) / (y1 - y0) * h }
        // Axes and ticks: five on y, six on x (powers of ten on a log axis).
        svg += "<g class=\"ax\"><line x1=\"\(f(Self.left))\" y1=\"\(f(Self.top + h))\" x2=\"\(f(Self.left + w))\" y2=\"\(f(Self.top + h))\"/>"
        svg += "<line x1=\"\(f(Self.left))\" y1=\"\(f(Self.top))\" x2=\"\(f(Self.left))\" y2=\"\(f(Self.top + h))\"/>"
        let yticks = logY ? (0...4).map { pow(10, y0 + (y1 - y0) * Double($0) / 4) }
            : stride(from: 0.0, through: y1 + yStep / 2, by: yStep).map { $0 }
        for v in yticks {
            let y = py(v)
            svg += "<line class=\"grid\" x1=\"\(f(Self.left))\" y1=\"\(f(y))\" x2=\"\(f(Self.left + w))\" y2=\"\(f(y))\"/>"
            svg += "<text x=\"\(f(Self.left - 6))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(number(v))</text>"
        }
        var xticks: [Double] = []
        if logX {
            var e = x0.rounded(.down)
            while e <= x1 {
                let v = pow(10.0, e)
                if v >= minX0 && v <= maxX0 { xticks.append(v) }
                e += 1
            }
        } else {
            let step = Self.niceStep(Swift.max(maxX0 - minX0, 1e-9) / 5)
            var v = (minX0 / step).rounded(.up) * step
            while v <= maxX0 + step * 1e-6 { xticks.append(v); v += step }
        }
        for v in xticks {
            svg += "<text x=\"\(f(px(v)))\" y=\"\(f(Self.top + h + 16))\" text-anchor=\"middle\">\(html(xTickText?(v) ?? number(v)))</text>"
        }
        svg += "<text x=\"\(f(Self.left + w / 2))\" y=\"\(f(Self.height - 4))\" text-anchor=\"middle\">\(html(xLabel))</text>"
        svg += "<text x=\"12\" y=\"\(f(Self.top + h / 2))\" transform=\"rotate(-90 12 \(f(Self.top + h / 2)))\" text-anchor=\"middle\">\(html(yLabel))</text></g>"
        for m in marks where m.x >= minX0 && m.x <= maxX0 {
            let x = px(m.x)
            svg += "<g class=\"mark\"><line x1=\"\(f(x))\" y1=\"\(f(Self.top))\" x2=\"\(f(x))\" y2=\"\(f(Self.top + h))\" stroke=\"#c0c\" stroke-dasharray=\"2 3\"/>"
            svg += "<text x=\"\(f(x + 3))\" y=\"\(f(Self.top + 10))\" fill=\"#c0c\">\(html(m.label))</text></g>"
        }
        // Dashed lines (an intended rate) on top, so an achieved line on them cannot hide them.
        for s in series.filter({ !$0.dashed }) + series.filter(\.dashed) {
            let pts = s.points.filter { (!logX || $0.x > 0) && (!logY || $0.y > 0) }.map { "\(f(px($0.x))),\(f(py($0.y)))" }
            svg += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.6\"\(s.dashed ? " stroke-dasharray=\"5 4\"" : "") points=\"\(pts.joined(separator: " "))\"/>"
        }
        // The legend, each label after the one before (long labels do not overlap).
        var lx = Self.left + 8
        for s in series {
            svg += "<rect x=\"\(f(lx))\" y=\"\(f(Self.top - 12))\" width=\"10\" height=\"3\" fill=\"\(s.color)\"/><text x=\"\(f(lx + 14))\" y=\"\(f(Self.top - 8))\">\(html(s.label))</text>"
            lx += 14 + Double(s.label.count) * Self.legendCharWidth + 16
        }
        return svg + "</svg>"
    }

    private func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// About how wide a legend character is at the chart's 11 px font.
    static let legendCharWidth = 6.5

    /// The 1, 2 or 5 times a power of ten at least `raw`: ticks people read at a glance.
    static func niceStep(_ raw: Double) -> Double {
        let magnitude = pow(10, (Foundation.log10(raw)).rounded(.down))
        for m in [1.0, 2, 5, 10] where m * magnitude >= raw * (1 - 1e-9) { return m * magnitude }
        return 10 * magnitude
    }

    private func number(_ v: Double) -> String {
        if v == 0 { return "0" }
        if abs(v) >= 1_000_000 { return String(format: "%.1fM", v / 1_000_000) }
        if abs(v) >= 10_000 { return String(format: "%.0fk", v / 1000) }
        if abs(v) >= 100 { return String(format: "%.0f", v) }
        if abs(v) >= 1 { return String(format: "%.1f", v) }
        return String(format: "%.3g", v)
    }
}

/// Text for HTML (and SVG) content and attribute values.
func html(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for c in text {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        default: out.append(c)
        }
    }
    return out
}
