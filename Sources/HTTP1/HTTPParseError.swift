/// Why a message could not be parsed. Every malformed input ends here; nothing traps.
public enum HTTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidStatusLine
    case invalidRequestLine
    case invalidHeader
    case invalidContentLength
    case invalidChunk
    case headersTooLarge(limit: Int)
    case bodyTooLarge(limit: Int)
    /// The peer closed the connection in the middle of a message.
    case truncated
    /// Bytes arrived that belong to no request we sent.
    case unexpectedData
    /// A request feature this server does not implement (e.g. a chunked request body).
    case unsupported(String)

    public var description: String {
        switch self {
        case .invalidStatusLine: return "invalid status line"
        case .invalidRequestLine: return "invalid request line"
        case .invalidHeader: return "invalid header"
        case .invalidContentLength: return "invalid Content-Length"
        case .invalidChunk: return "invalid chunked encoding"
        case .headersTooLarge(let limit): return "headers larger than \(limit) bytes"
        case .bodyTooLarge(let limit): return "body larger than \(limit) bytes"
        case .truncated: return "connection closed mid-message"
        case .unexpectedData: return "unsolicited data after a response"
        case .unsupported(let what): return "unsupported: \(what)"
        }
    }
}
