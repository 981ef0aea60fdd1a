/// The recording family shared by every histogram type: `record(_:)`, `record(_:count:)` and
/// `recordCorrected(_:expectedInterval:)`. Conformers implement `record(_:count:)` only.
///
/// Values are clamped into `0...highestTrackableValue`: a value above the range is recorded as the
/// highest trackable value and counted in `clampedCount`; a negative value is recorded as 0 and
/// counted the same way. Nothing traps.
public protocol HistogramRecording {
    var layout: HistogramLayout { get }
    /// Records `count` occurrences of `value`.
    mutating func record(_ value: Int64, count: Int64)
}

extension HistogramRecording {
    /// Records one occurrence of `value`.
    @inlinable @inline(__always)
    public mutating func record(_ value: Int64) { record(value, count: 1) }

    /// Records `value` and, as HdrHistogram's coordinated-omission correction defines it, the
    /// samples that would have been taken while it was outstanding: when `value` exceeds
    /// `expectedInterval`, also `value - expectedInterval`, `value - 2*expectedInterval`, ... down to
    /// `expectedInterval`. `expectedInterval <= 0` records `value` alone.
    public mutating func recordCorrected(_ value: Int64, expectedInterval: Int64) {
        recordWithCorrection(value, expectedInterval: expectedInterval)
    }

    mutating func recordWithCorrection(_ value: Int64, expectedInterval: Int64) {
        record(value, count: 1)
        guard expectedInterval > 0, value > expectedInterval else { return }
        var missing = value - expectedInterval
        while missing >= expectedInterval {
            record(missing, count: 1)
            missing -= expectedInterval
        }
    }
}

/// Reference types (the atomic histogram, the interval recorder) record through shared references,
/// so their family is non-mutating.
extension HistogramRecording where Self: AnyObject {
    @inlinable @inline(__always)
    public func record(_ value: Int64) {
        var this = self
        this.record(value, count: 1)
    }

    /// See the value-type `recordCorrected(_:expectedInterval:)`.
    public func recordCorrected(_ value: Int64, expectedInterval: Int64) {
        var this = self
        this.recordWithCorrection(value, expectedInterval: expectedInterval)
    }
}

extension HistogramLayout {
    /// Maps a value to the counts index it is recorded at, clamping it into range.
    /// Returns the index and whether the value had to be clamped.
    @inlinable @inline(__always)
    func clampedIndex(of value: Int64) -> (index: Int, clamped: Bool) {
        if value > highestTrackableValue { return (index(of: highestTrackableValue), true) }
        if value < 0 { return (0, true) }
        return (index(of: value), false)
    }
}
