/// Errors from building, decoding or reading histograms. Each case carries what was wrong.
public enum HistogramError: Error, Equatable, CustomStringConvertible {
    /// The three layout parameters do not describe a valid histogram.
    case invalidLayout(String)
    /// Histograms with different layouts cannot be merged index by index.
    case layoutMismatch(HistogramLayout, HistogramLayout)
    /// Encoded bytes are not a histogram we can read: bad cookie, truncated, corrupt counts.
    case malformedEncoding(String)
    /// zlib refused the stream (its return code and message).
    case compression(code: Int32, message: String)
    /// A line of an .hlog file could not be parsed.
    case malformedLog(line: Int, reason: String)
    /// A histogram subtracted holds a count this one does not.
    case notContained

    public var description: String {
        switch self {
        case .invalidLayout(let why): return "invalid histogram layout: \(why)"
        case .layoutMismatch(let a, let b): return "histogram layouts differ: \(a) vs \(b)"
        case .malformedEncoding(let why): return "malformed histogram encoding: \(why)"
        case .compression(let code, let message): return "zlib error \(code): \(message)"
        case .malformedLog(let line, let reason): return "malformed histogram log, line \(line): \(reason)"
        case .notContained: return "the histogram subtracted holds values this one does not"
        }
    }
}
