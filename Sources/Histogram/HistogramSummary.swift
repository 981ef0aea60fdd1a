/// What a report says of a histogram, in one scan of its counters instead of four.
public struct HistogramSummary: Sendable, Equatable {
    public var min: Int64
    public var max: Int64
    public var mean: Double
    /// At the percentiles asked for, in their order.
    public var values: [Int64]
}

extension HDRHistogram {
    /// `min`, `max`, `mean` and `values(atPercentiles:)` from a single pass that skips lines of
    /// eight empty counters: the same numbers (the mean is summed in the same order), at a
    /// fraction of the cost for the sparse histograms a report holds by the thousand (one per name).
    public func summary(atPercentiles percentiles: [Double]) -> HistogramSummary {
        var result = HistogramSummary(min: 0, max: 0, mean: 0, values: [Int64](repeating: 0, count: percentiles.count))
        guard totalCount > 0 else { return result }
        let order = percentiles.indices.sorted { percentiles[$0] < percentiles[$1] }
        let targets = order.map { targetCount(atPercentile: percentiles[$0]) }
        var next = 0
        var cumulative: Int64 = 0
        var sum = 0.0
        var first = -1, last = -1
        withCounts { counts in
            let n = counts.count, line = HistogramCounters.line
            guard let base = counts.baseAddress else { return }
            var i = 0
            while i < n {
                if i + line <= n && !HistogramCounters.lineHoldsValues(base + i) { i += line; continue }
                let end = Swift.min(i + line, n)
                for k in i..<end where counts[k] != 0 {
                    let c = counts[k]
                    if first < 0 { first = k }
                    last = k
                    let v = layout.value(atIndex: k)
                    sum += Double(layout.medianEquivalentValue(v)) * Double(c)
                    cumulative += c
                    while next < order.count && cumulative >= targets[next] {
                        result.values[order[next]] = percentiles[order[next]] <= 0 ? layout.lowestEquivalentValue(v) : layout.highestEquivalentValue(v)
                        next += 1
                    }
                }
                i = end
            }
        }
        guard first >= 0 else { return result }
        result.min = layout.value(atIndex: first)
        result.max = layout.highestEquivalentValue(layout.value(atIndex: last))
        result.mean = sum / Double(totalCount)
        return result
    }
}
