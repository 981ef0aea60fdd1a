import Foundation

/// Queries. Each scans the counters once (23,552 for the latency layout, some microseconds); they
/// follow HdrHistogram's definitions so results match the Java, C and Python implementations.
extension HDRHistogram {
    /// Lowest recorded value, to histogram precision (lowest equivalent value of the lowest
    /// non-empty counter); 0 when empty.
    public var min: Int64 {
        guard let i = withCounts({ $0.firstIndex(where: { $0 != 0 }) }) else { return 0 }
        return layout.value(atIndex: i)
    }

    /// Highest recorded value, to histogram precision (highest equivalent value of the highest
    /// non-empty counter); 0 when empty.
    public var max: Int64 {
        guard let i = withCounts({ $0.lastIndex(where: { $0 != 0 }) }) else { return 0 }
        return layout.highestEquivalentValue(layout.value(atIndex: i))
    }

    /// Mean of the recorded values, each taken at the middle of its equivalent range; 0 when empty.
    public var mean: Double {
        guard totalCount > 0 else { return 0 }
        var sum = 0.0
        withCounts { counts in
            for (i, c) in counts.enumerated() where c != 0 {
                sum += Double(layout.medianEquivalentValue(layout.value(atIndex: i))) * Double(c)
            }
        }
        return sum / Double(totalCount)
    }

    /// Population standard deviation, with values taken as in `mean`; 0 when empty.
    public var standardDeviation: Double {
        guard totalCount > 0 else { return 0 }
        let m = mean
        var sum = 0.0
        withCounts { counts in
            for (i, c) in counts.enumerated() where c != 0 {
                let d = Double(layout.medianEquivalentValue(layout.value(atIndex: i))) - m
                sum += d * d * Double(c)
            }
        }
        return (sum / Double(totalCount)).squareRoot()
    }

    /// The value at or below which `percentile` percent of the recorded values fall, as
    /// HdrHistogram defines it: the highest equivalent value of the counter where the cumulative
    /// count first reaches `ceil(percentile/100 * totalCount)` (at least 1); for `percentile == 0`
    /// the lowest equivalent value. `percentile` is clamped to 0...100. 0 when empty.
    public func value(atPercentile percentile: Double) -> Int64 {
        values(atPercentiles: [percentile])[0]
    }

    /// `value(atPercentile:)` for many percentiles in a single scan. `percentiles` need not be sorted.
    public func values(atPercentiles percentiles: [Double]) -> [Int64] {
        var result = [Int64](repeating: 0, count: percentiles.count)
        guard totalCount > 0 else { return result }
        let order = percentiles.indices.sorted { percentiles[$0] < percentiles[$1] }
        var next = 0
        var cumulative: Int64 = 0
        withCounts { counts in
            for (i, c) in counts.enumerated() where c != 0 {
                cumulative += c
                while next < order.count {
                    let p = percentiles[order[next]]
                    guard cumulative >= targetCount(atPercentile: p) else { break }
                    let v = layout.value(atIndex: i)
                    result[order[next]] = p <= 0 ? layout.lowestEquivalentValue(v) : layout.highestEquivalentValue(v)
                    next += 1
                }
                if next == order.count { break }
            }
        }
        return result
    }

    func targetCount(atPercentile percentile: Double) -> Int64 {
        // One ulp down avoids round-off pushing an exact count into the next counter (as the reference).
        let p = Swift.min(Swift.max(percentile.nextDown, 0), 100)
        return Swift.max(1, Int64((p / 100 * Double(totalCount)).rounded(.up)))
    }

    /// Percentage of recorded values at or below `value` (to histogram precision); 100 when empty.
    public func percentile(atOrBelow value: Int64) -> Double {
        guard totalCount > 0 else { return 100 }
        let (target, _) = layout.clampedIndex(of: value)
        var below: Int64 = 0
        withCounts { counts in for i in 0...target { below += counts[i] } }
        return 100 * Double(below) / Double(totalCount)
    }

    /// One point of a percentile spectrum.
    public struct PercentilePoint: Sendable, Equatable, Codable {
        public let percentile: Double
        public let value: Int64
    }

    /// The percentile spectrum as HdrHistogram's percentile output iterates it: `ticksPerHalfDistance`
    /// steps between 0 and 50 %, as many again between 50 and 75 %, and so on, so the tail is resolved
    /// as finely as it is recorded; ends at 100 %. Plot percentile on a log scale of `1/(1-p/100)`.
    public func percentileSpectrum(ticksPerHalfDistance: Int = 5) -> [PercentilePoint] {
        guard totalCount > 0, ticksPerHalfDistance > 0 else { return [] }
        var levels: [Double] = []
        var p = 0.0
        // Beyond 1 - 1/totalCount every percentile is the maximum.
        let last = 100.0 * (1.0 - 1.0 / Double(totalCount))
        while p < last && levels.count < 10_000 {
            levels.append(p)
            let halvings = Foundation.floor(Foundation.log2(100.0 / (100.0 - p))) + 1
            p += 100.0 / (Double(ticksPerHalfDistance) * Foundation.pow(2, halvings))
        }
        levels.append(100)
        return zip(levels, values(atPercentiles: levels)).map { PercentilePoint(percentile: $0, value: $1) }
    }
}
