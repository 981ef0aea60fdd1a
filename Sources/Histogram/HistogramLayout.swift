/// The bucket layout of an HDR histogram, index-for-index identical to HdrHistogram (Java, C, Python):
/// the same sub-bucket count, unit magnitude and counts index for the same three parameters, so that
/// encoded histograms move between implementations unchanged.
///
/// A value `v` falls into bucket `b` (a power-of-two range) and, within it, into one of
/// `subBucketCount / 2` linear sub-buckets; the relative error of any recorded value is below
/// `10^-significantDigits`. With the latency defaults (1 µs .. 1 h, 3 digits) that is 23,552 counters.
public struct HistogramLayout: Sendable, Hashable, CustomStringConvertible {
    /// Smallest value that is distinguished from 0 (>= 1).
    public let lowestDiscernibleValue: Int64
    /// Largest value that can be recorded; larger values are clamped to it and counted.
    public let highestTrackableValue: Int64
    /// Decimal digits of precision kept for every value (0...5).
    public let significantDigits: Int
    /// Number of counters.
    public let countsLength: Int
    public let bucketCount: Int

    @usableFromInline let unitMagnitude: Int
    @usableFromInline let subBucketHalfCountMagnitude: Int
    @usableFromInline let subBucketCount: Int
    @usableFromInline let subBucketHalfCount: Int
    @usableFromInline let subBucketMask: Int64
    @usableFromInline let leadingZeroCountBase: Int

    /// Stampede's latency layout (docs/reports.md): microseconds, 1 µs .. 3,600,000,000 µs (1 h), 3 digits.
    public static let latency = try! HistogramLayout(
        lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, significantDigits: 3)

    /// Upper bound on counters accepted from a decoded header, so a hostile header cannot make us
    /// allocate gigabytes (the latency layout needs 23,552; 2^21 counters is 16 MiB).
    public static let maximumCountsLength = 1 << 21

    /// - Throws: `HistogramError.invalidLayout` when `lowestDiscernibleValue < 1`,
    ///   `highestTrackableValue < 2 * lowestDiscernibleValue`, `significantDigits` is outside 0...5,
    ///   or the layout would need more than `maximumCountsLength` counters.
    public init(lowestDiscernibleValue: Int64 = 1, highestTrackableValue: Int64,
                significantDigits: Int = 3) throws(HistogramError) {
        guard lowestDiscernibleValue >= 1 else {
            throw .invalidLayout("lowestDiscernibleValue must be >= 1, got \(lowestDiscernibleValue)")
        }
        guard lowestDiscernibleValue <= Int64.max / 2,
              highestTrackableValue >= 2 * lowestDiscernibleValue else {
            throw .invalidLayout(
                "highestTrackableValue (\(highestTrackableValue)) must be >= 2 * lowestDiscernibleValue (\(lowestDiscernibleValue))")
        }
        guard (0...5).contains(significantDigits) else {
            throw .invalidLayout("significantDigits must be in 0...5, got \(significantDigits)")
        }
        self.lowestDiscernibleValue = lowestDiscernibleValue
        self.highestTrackableValue = highestTrackableValue
        self.significantDigits = significantDigits

        var largestSingleUnit: Int64 = 2
        for _ in 0..<significantDigits { largestSingleUnit *= 10 }
        // floor(log2(lowest)) and ceil(log2(largestSingleUnit)), in integers as the reference does in doubles.
        unitMagnitude = 63 - lowestDiscernibleValue.leadingZeroBitCount
        let subBucketCountMagnitude = 64 - (largestSingleUnit - 1).leadingZeroBitCount
        subBucketHalfCountMagnitude = max(subBucketCountMagnitude, 1) - 1
        subBucketCount = 1 << (subBucketHalfCountMagnitude + 1)
        subBucketHalfCount = subBucketCount / 2
        subBucketMask = Int64(subBucketCount - 1) << unitMagnitude
        leadingZeroCountBase = 64 - unitMagnitude - subBucketHalfCountMagnitude - 1
        guard unitMagnitude + subBucketHalfCountMagnitude <= 61 else {
            throw .invalidLayout("lowestDiscernibleValue \(lowestDiscernibleValue) is too large for \(significantDigits) digits")
        }

        var smallestUntrackable = Int64(subBucketCount) << unitMagnitude
        var buckets = 1
        while smallestUntrackable <= highestTrackableValue {
            if smallestUntrackable > Int64.max / 2 { buckets += 1; break }
            smallestUntrackable <<= 1
            buckets += 1
        }
        bucketCount = buckets
        countsLength = (buckets + 1) * (subBucketCount / 2)
        guard countsLength <= Self.maximumCountsLength else {
            throw .invalidLayout("layout needs \(countsLength) counters (limit \(Self.maximumCountsLength))")
        }
    }

    /// Counts index of a value in 0...highestTrackableValue.
    /// Masking shifts and wrapping arithmetic: every operand is in range by construction (bucket
    /// indexes are 0..<64), and the checked forms cost more than the rest of `record` together.
    @inlinable @inline(__always)
    public func index(of value: Int64) -> Int {
        let bucketIndex = leadingZeroCountBase &- (value | subBucketMask).leadingZeroBitCount
        let subBucketIndex = Int(truncatingIfNeeded: value &>> (bucketIndex &+ unitMagnitude))
        return ((bucketIndex &+ 1) &<< subBucketHalfCountMagnitude) &+ (subBucketIndex &- subBucketHalfCount)
    }

    /// The lowest value that maps to counts index `index`.
    @inlinable
    public func value(atIndex index: Int) -> Int64 {
        var bucketIndex = (index >> subBucketHalfCountMagnitude) - 1
        var subBucketIndex = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
        if bucketIndex < 0 {
            subBucketIndex -= subBucketHalfCount
            bucketIndex = 0
        }
        return Int64(subBucketIndex) << (bucketIndex + unitMagnitude)
    }

    /// Width of the range of values that are recorded as equivalent to `value`.
    public func sizeOfEquivalentRange(_ value: Int64) -> Int64 {
        let bucketIndex = leadingZeroCountBase - (value | subBucketMask).leadingZeroBitCount
        let subBucketIndex = Int(truncatingIfNeeded: value >> (bucketIndex + unitMagnitude))
        let adjustedBucket = subBucketIndex >= subBucketCount ? bucketIndex + 1 : bucketIndex
        let shift = unitMagnitude + adjustedBucket
        // Layouts reaching Int64.max have a top bucket 2^63 wide: saturate rather than wrap.
        return shift >= 63 ? Int64.max : Int64(1) << shift
    }

    public func lowestEquivalentValue(_ value: Int64) -> Int64 { self.value(atIndex: index(of: value)) }

    /// The largest value recorded at the same index as `value` (saturating at Int64.max).
    public func highestEquivalentValue(_ value: Int64) -> Int64 {
        let (sum, overflow) = lowestEquivalentValue(value).addingReportingOverflow(sizeOfEquivalentRange(value) - 1)
        return overflow ? Int64.max : sum
    }

    public func medianEquivalentValue(_ value: Int64) -> Int64 {
        let (sum, overflow) = lowestEquivalentValue(value).addingReportingOverflow(sizeOfEquivalentRange(value) >> 1)
        return overflow ? Int64.max : sum
    }
    public func valuesAreEquivalent(_ a: Int64, _ b: Int64) -> Bool {
        lowestEquivalentValue(a) == lowestEquivalentValue(b)
    }

    public var description: String {
        "HistogramLayout(\(lowestDiscernibleValue)...\(highestTrackableValue), \(significantDigits) digits, \(countsLength) counters)"
    }
}
