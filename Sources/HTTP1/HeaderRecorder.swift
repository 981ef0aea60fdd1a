/// Keeps the values of a few named response headers (`Set-Cookie`, a captured `Location`) while
/// the parser skips everything else. Attached to a parser only when something reads them, so a
/// response without those headers costs a length comparison per header name and no memory.
///
/// Thread-safety: none; owned by one connection (a class so the parser, a value, can share it
/// with its connection without copying the values).
public final class HeaderRecorder: @unchecked Sendable {
    /// Lower-cased names to keep.
    public let names: [[UInt8]]
    /// The kept values' bytes back to back, and per value (of the final response, in order)
    /// the index of its name and where it lies, without the surrounding whitespace. Reused from
    /// response to response: a login's Set-Cookie allocates nothing once they have grown.
    @usableFromInline var valueBytes = ByteStore()
    @usableFromInline var fields: [(name: Int, range: Range<Int>)] = []
    /// How many values the response kept (entries of `fields` beyond are left from earlier ones).
    @usableFromInline var kept = 0
    @inlinable public var valueCount: Int { kept }
    /// Values longer than this are cut (a header block is capped by the parser anyway).
    public static let maxValueBytes = 8192
    /// The body's first bytes (up to the limit given to `HTTPResponseParser.reset`). Chunked
    /// framing is removed; any content coding is not.
    public private(set) var bodyBytes = ByteStore()

    var nameBytes = ByteStore()
    private var recording = -1
    private var valueStart = 0

    /// A bit per name length (names of 64 bytes or more share the top bit): most headers are
    /// ruled out by their length alone, before any byte is compared.
    public let lengthMask: UInt64

    /// `names` back to back, and where each lies: a header name is compared with no array of
    /// arrays to walk (each element read retained and released it, about 200 instructions a login).
    private let flatNames: [UInt8]
    private let nameRanges: [Range<Int>]

    public init(names: [String]) {
        self.names = names.map { Array($0.lowercased().utf8) }
        lengthMask = self.names.reduce(0) { $0 | Self.lengthBit($1.count) }
        flatNames = self.names.flatMap { $0 }
        var start = 0
        nameRanges = self.names.map { name in
            defer { start += name.count }
            return start..<(start + name.count)
        }
    }

    /// A name length's bit in `lengthMask`.
    @inline(__always)
    public static func lengthBit(_ length: Int) -> UInt64 { 1 << UInt64(Swift.min(length, 63)) }

    /// The name index of kept value `k` (of `valueCount`).
    @inlinable
    public func name(at k: Int) -> Int { fields[k].name }

    /// Kept value `k`'s bytes, valid during `body` (inlinable: a generic call across modules
    /// ran unspecialized, about 230 instructions a login).
    @inlinable
    public func withValue<R>(at k: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let range = fields[k].range
        return try valueBytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// The first value of header `index` (of `names`), copied out.
    public func firstValue(of index: Int) -> [UInt8]? {
        guard let k = (0..<valueCount).first(where: { fields[$0].name == index }) else { return nil }
        return withValue(at: k) { Array($0) }
    }

    /// The values of header `index` (of `names`), copied out.
    public func values(of index: Int) -> [[UInt8]] { values.filter { $0.name == index }.map(\.value) }

    /// Every kept value with its name's index, copied out (tests and tools; the request path
    /// reads them in place).
    public var values: [(name: Int, value: [UInt8])] { (0..<valueCount).map { k in (fields[k].name, withValue(at: k) { Array($0) }) } }

    /// The kept body, copied out.
    public var body: [UInt8] { bodyBytes.array }

    /// Keeps a value as if a response had carried it (a response assembled by hand).
    public func record(_ name: Int, value: UnsafeRawBufferPointer) {
        begin(name)
        append(value)
        end()
    }

    /// Ready for the next response (per request: only what was used is cleared).
    @inline(__always)
    func reset() {
        kept = 0
        valueBytes.removeAll()
        bodyBytes.removeAll()
        nameBytes.removeAll()
        recording = -1
    }

    /// Gives back a kept body's memory once its captures ran: a session waiting between requests
    /// (thinking, or a slot with no session) then holds no response bytes.
    public func releaseBody() {
        if bodyBytes.capacity > Self.retainedBodyBytes { bodyBytes.removeAll(releasingAbove: Self.retainedBodyBytes) }
    }

    public static let retainedBodyBytes = 1024

    /// Which kept name `bytes[from..<to]` is (case-insensitive), if any.
    @inline(__always)
    func match(_ bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        let length = to - from
        guard lengthMask & Self.lengthBit(length) != 0 else { return nil }
        return flatNames.withUnsafeBufferPointer { flat in
            nameRanges.withUnsafeBufferPointer { ranges in
                for k in 0..<ranges.count where ranges[k].count == length {
                    let start = ranges[k].lowerBound
                    var j = 0
                    while j < length && HTTPBytes.lower(bytes[from + j]) == flat[start + j] { j += 1 }
                    if j == length { return k }
                }
                return nil
            }
        }
    }

    /// The name whose bytes arrived one at a time (split across reads), if kept.
    func matchAccumulatedName() -> Int? {
        defer { nameBytes.removeAll() }
        return nameBytes.withUnsafeBytes { match($0, from: 0, to: $0.count) }
    }

    /// Whether the response kept a value of header `index`.
    func hasValue(of index: Int) -> Bool { (0..<valueCount).contains { fields[$0].name == index } }

    func begin(_ index: Int) {
        recording = index
        valueStart = valueBytes.count
    }

    @inline(__always)
    func append(_ b: UInt8) {
        if valueBytes.count - valueStart < Self.maxValueBytes { valueBytes.append(b) }
    }

    func append(_ bytes: UnsafeRawBufferPointer) {
        let room = Self.maxValueBytes - (valueBytes.count - valueStart)
        guard room > 0 else { return }
        valueBytes.append(room >= bytes.count ? bytes : UnsafeRawBufferPointer(rebasing: bytes[..<room]))
    }

    @inline(__always)
    func appendBody(_ bytes: UnsafeRawBufferPointer, limit: Int) {
        let room = limit - bodyBytes.count
        guard room > 0 else { return }
        bodyBytes.append(room >= bytes.count ? bytes : UnsafeRawBufferPointer(rebasing: bytes[..<room]))
    }

    func end() {
        guard recording >= 0 else { return }
        while valueBytes.count > valueStart, valueBytes[valueBytes.count - 1] == 32 || valueBytes[valueBytes.count - 1] == 9 { valueBytes.removeLast(1) }
        let field = (recording, valueStart..<valueBytes.count)
        if kept < fields.count { fields[kept] = field } else { fields.append(field) }
        kept += 1
        recording = -1
    }
}
