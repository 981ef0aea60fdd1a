/// Keeps the values of a few named response headers (`Set-Cookie`, a captured `Location`) while
/// the parser skips everything else. Attached to a parser only when something reads them, so a
/// response without those headers costs a length comparison per header name and no memory.
///
/// Thread-safety: none; owned by one connection (a class so the parser, a value, can share it
/// with its connection without copying the values).
public final class HeaderRecorder: @unchecked Sendable {
    /// Lower-cased names to keep.
    public let names: [[UInt8]]
    /// The final response's values, in order: the index of the name, and the value without the
    /// surrounding whitespace. Interim (1xx) responses' headers are dropped.
    public private(set) var values: [(name: Int, value: [UInt8])] = []
    /// Values longer than this are cut (a header block is capped by the parser anyway).
    public static let maxValueBytes = 8192
    /// The body's first bytes (up to the limit given to `HTTPResponseParser.reset`). Chunked
    /// framing is removed; any content coding is not.
    public private(set) var body: [UInt8] = []

    var nameBytes: [UInt8] = []
    private var current: [UInt8] = []
    private var recording = -1

    /// A bit per name length (names of 64 bytes or more share the top bit): most headers are
    /// ruled out by their length alone, before any byte is compared.
    public let lengthMask: UInt64

    public init(names: [String]) {
        self.names = names.map { Array($0.lowercased().utf8) }
        lengthMask = self.names.reduce(0) { $0 | Self.lengthBit($1.count) }
    }

    /// A name length's bit in `lengthMask`.
    @inline(__always)
    public static func lengthBit(_ length: Int) -> UInt64 { 1 << UInt64(Swift.min(length, 63)) }

    /// The values of header `index` (of `names`).
    public func values(of index: Int) -> [[UInt8]] { values.filter { $0.name == index }.map(\.value) }

    /// Ready for the next response (per request: only what was used is cleared).
    @inline(__always)
    func reset() {
        if !values.isEmpty { values.removeAll(keepingCapacity: true) }
        if !body.isEmpty { body.removeAll(keepingCapacity: true) }
        if !nameBytes.isEmpty { nameBytes.removeAll(keepingCapacity: true) }
        recording = -1
    }

    /// Gives back a kept body's memory once its captures ran: a session waiting between requests
    /// (thinking, or a slot with no session) then holds no response bytes.
    public func releaseBody() {
        if body.capacity > Self.retainedBodyBytes { body = [] }
    }

    public static let retainedBodyBytes = 1024

    /// Which kept name `bytes[from..<to]` is (case-insensitive), if any.
    @inline(__always)
    func match(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        let length = to - from
        guard lengthMask & Self.lengthBit(length) != 0 else { return nil }
        for (k, name) in names.enumerated() where name.count == length {
            var same = true
            for j in 0..<length where HTTPBytes.lower(bytes[from + j]) != name[j] { same = false; break }
            if same { return k }
        }
        return nil
    }

    /// The name whose bytes arrived one at a time (split across reads), if kept.
    func matchAccumulatedName() -> Int? {
        defer { nameBytes.removeAll(keepingCapacity: true) }
        return nameBytes.withUnsafeBytes { match($0, from: 0, to: $0.count) }
    }

    func begin(_ index: Int) {
        recording = index
        current.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    func append(_ b: UInt8) {
        if current.count < Self.maxValueBytes { current.append(b) }
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        let room = Self.maxValueBytes - current.count
        guard room > 0 else { return }
        current.append(contentsOf: room >= bytes.count ? bytes : UnsafeRawBufferPointer(rebasing: bytes[..<room]))
    }

    @inline(__always)
    func appendBody(_ bytes: UnsafeRawBufferPointer, limit: Int) {
        let room = limit - body.count
        guard room > 0 else { return }
        body.append(contentsOf: room >= bytes.count ? bytes : UnsafeRawBufferPointer(rebasing: bytes[..<room]))
    }

    func end() {
        guard recording >= 0 else { return }
        while let last = current.last, last == 32 || last == 9 { current.removeLast() }
        values.append((recording, current))
        recording = -1
    }
}
