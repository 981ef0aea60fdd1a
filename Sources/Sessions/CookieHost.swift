/// A request's host as the cookie jar compares it: lower-cased (RFC 6265 compares domains
/// without case), as text and as bytes. Made once per origin, so a request's cookies are matched
/// by comparing bytes, with no String taken apart per request.
public struct CookieHost: Sendable, Equatable {
    public let name: String
    let bytes: [UInt8]

    public init(_ host: String) {
        name = CookieJar.lowercased(host)
        bytes = Array(name.utf8)
    }

    /// Whether `mine[range]` is this host.
    @inline(__always)
    func matches(_ mine: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool {
        bytes.withUnsafeBytes { bytesEqual(mine, range, $0, 0..<$0.count) }
    }
}
