import Foundation
import Histogram
import StampedeModel

/// The report's charts, from the per-second histograms and the whole test's.
enum Charts {
    static let colors = ["#36c", "#3aa", "#e80", "#b33", "#63c", "#2a7", "#c5a", "#777"]

    static func rate(_ s: PerSecond) -> SVGChart {
        var series = [SVGChart.Series(label: "responses/s", color: "#2a7", points: s.seconds.map { (Double($0.t), Double($0.histogram.totalCount)) }),
                      SVGChart.Series(label: "errors/s", color: "#b33", points: s.seconds.map { (Double($0.t), Double(s.errors[$0.t] ?? 0)) })]
        if !s.targetRate.isEmpty {
            series.append(SVGChart.Series(label: "target req/s", color: "#999",
                                          points: s.targetRate.keys.sorted().map { (Double($0), s.targetRate[$0]!) }, dashed: true))
        }
        return SVGChart(title: "Requests and errors per second", xLabel: "second", yLabel: "per second", series: series)
    }

    /// Responses per second of each scenario (from the `Tag=scenario.NAME` lines), on one chart.
    static func rateByScenario(_ s: PerSecond) -> SVGChart {
        let series = s.scenarios.keys.sorted().enumerated().map { k, name in
            SVGChart.Series(label: name, color: colors[k % colors.count],
                            points: s.scenarios[name]!.map { (Double($0.t), Double($0.histogram.totalCount)) })
        }
        return SVGChart(title: "Responses per second, per scenario", xLabel: "second", yLabel: "per second", series: series)
    }

    static func latencyPerSecond(_ s: PerSecond, log: Bool) -> SVGChart {
        let kinds: [(String, (HDRHistogram) -> Int64)] = [
            ("p50", { $0.value(atPercentile: 50) }), ("p90", { $0.value(atPercentile: 90) }),
            ("p99", { $0.value(atPercentile: 99) }), ("max", { $0.max })]
        let series = kinds.enumerated().map { k, kind in
            SVGChart.Series(label: kind.0, color: colors[k],
                            points: s.seconds.filter { $0.histogram.totalCount > 0 }.map { (Double($0.t), Double(kind.1($0.histogram)) / 1000) })
        }
        return SVGChart(title: "Latency per second (ms\(log ? ", log" : ""))", xLabel: "second", yLabel: "ms", series: series, logY: log)
    }

    /// Sessions ended per second (from the `Tag=session` lines), with the run's totals in the title.
    static func sessionsPerSecond(_ s: PerSecond, sessions: SessionReport) -> SVGChart {
        let series = [SVGChart.Series(label: "sessions completed/s", color: "#2a7",
                                      points: s.sessions.map { (Double($0.t), Double($0.histogram.totalCount)) })]
        return SVGChart(title: "Sessions completed per second (\(sessions.started) started, \(sessions.completed) completed, \(sessions.failed_total) failed)",
                        xLabel: "second", yLabel: "per second", series: series)
    }

    /// The duration of the sessions that ended in each second: p50, p99 and max.
    static func sessionDuration(_ s: PerSecond, log: Bool) -> SVGChart {
        let kinds: [(String, (HDRHistogram) -> Int64)] = [
            ("p50", { $0.value(atPercentile: 50) }), ("p99", { $0.value(atPercentile: 99) }), ("max", { $0.max })]
        let series = kinds.enumerated().map { k, kind in
            SVGChart.Series(label: kind.0, color: colors[k],
                            points: s.sessions.filter { $0.histogram.totalCount > 0 }.map { (Double($0.t), Double(kind.1($0.histogram)) / 1000) })
        }
        return SVGChart(title: "Session duration per second (ms, from the arrival\(log ? ", log" : ""))", xLabel: "second", yLabel: "ms",
                        series: series, logY: log)
    }

    /// Latency by percentile, x = 1/(1−p) on a log axis as HdrHistogram plots it.
    static func spectrum(_ whole: HDRHistogram?, byName: [(String, HDRHistogram)], log: Bool, title: String? = nil) -> SVGChart {
        func points(_ h: HDRHistogram) -> [(x: Double, y: Double)] {
            h.percentileSpectrum(ticksPerHalfDistance: 5).filter { $0.percentile < 100 }
                .map { (1 / (1 - $0.percentile / 100), Double($0.value) / 1000) }
        }
        var series: [SVGChart.Series] = []
        if let whole { series.append(SVGChart.Series(label: "latency", color: "#63c", points: points(whole))) }
        for (k, (name, h)) in byName.enumerated() { series.append(SVGChart.Series(label: name, color: colors[k % colors.count], points: points(h))) }
        let title = title ?? (whole == nil ? "Latency by percentile, per name" : "Latency by percentile (whole test)")
        return SVGChart(title: title + " (ms\(log ? ", log" : ""))", xLabel: "percentile", yLabel: "ms", series: series, logX: true,
                        logY: log, xTickText: { v in
                            let p = 100 * (1 - 1 / v)
                            return p == 0 ? "0%" : String(format: p >= 99.99 ? "%.4g%%" : "%.4g%%", p)
                        })
    }

    /// How many responses took how long: the histogram's counts in ten bins per decade.
    static func distribution(_ h: HDRHistogram) -> SVGChart {
        var bins: [Int: Int64] = [:]
        for (i, n) in h.counts.enumerated() where n > 0 {
            let v = Double(h.layout.value(atIndex: i))
            bins[Int((Foundation.log10(Swift.max(v, 1)) * 10).rounded(.down)), default: 0] += n
        }
        let points = bins.keys.sorted().map { (pow(10, (Double($0) + 0.5) / 10) / 1000, Double(bins[$0]!)) }
        return SVGChart(title: "Latency distribution (responses per 1/10 decade)", xLabel: "ms", yLabel: "responses",
                        series: [SVGChart.Series(label: "responses", color: "#36c", points: points)], logX: true)
    }
}
