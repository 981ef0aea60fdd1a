/// Bytes in an array that never shrinks, with `count` saying how many are in use. Emptying sets
/// the count to zero and appending copies into the room already there, so a buffer reused for
/// every response or session allocates nothing once it has grown, and never goes through
/// Array's generic paths (`removeAll(keepingCapacity:)` cost about 120 instructions and
/// `append(contentsOf:)` from raw bytes about 150, a cookie's worth; callgrind).
///
/// A value, copied on write like the array it holds. Thread-safety: that of a value.
public struct ByteStore: Sendable, Equatable, CustomStringConvertible {
    private var storage: [UInt8] = []
    public private(set) var count = 0

    public init() {}

    public init(_ bytes: some Sequence<UInt8>) {
        storage = Array(bytes)
        count = storage.count
    }

    public var isEmpty: Bool { count == 0 }

    /// Bytes held, in use or not.
    public var capacity: Int { storage.count }

    @inline(__always)
    public mutating func removeAll() { count = 0 }

    /// Drops the last `k` bytes in use.
    @inline(__always)
    public mutating func removeLast(_ k: Int) { count -= Swift.min(k, count) }

    /// Empties and gives the memory back when more than `limit` bytes are held.
    public mutating func removeAll(releasingAbove limit: Int) {
        count = 0
        if storage.count > limit { storage = [] }
    }

    @inline(__always)
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n > 0 else { return }
        if count + n > storage.count { grow(to: count + n) }
        let at = count
        storage.withUnsafeMutableBytes { ($0.baseAddress! + at).copyMemory(from: bytes.baseAddress!, byteCount: n) }
        count += n
    }

    @inline(__always)
    public mutating func append(_ byte: UInt8) {
        if count == storage.count { grow(to: count + 1) }
        storage[count] = byte
        count += 1
    }

    public mutating func append(_ bytes: ByteStore) {
        bytes.withUnsafeBytes { append($0) }
    }

    public mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Overwrites bytes in use, from `offset` on (`bytes` must fit within `count`).
    public mutating func replace(at offset: Int, with bytes: UnsafeRawBufferPointer) {
        precondition(offset >= 0 && offset + bytes.count <= count, "ByteStore.replace past the bytes in use")
        guard let source = bytes.baseAddress else { return }
        storage.withUnsafeMutableBytes { ($0.baseAddress! + offset).copyMemory(from: source, byteCount: bytes.count) }
    }

    private mutating func grow(to needed: Int) {
        let size = Swift.max(needed, storage.count * 2, 32)
        storage.append(contentsOf: repeatElement(0, count: size - storage.count))
    }

    @inline(__always)
    public subscript(_ k: Int) -> UInt8 {
        precondition(k >= 0 && k < count, "ByteStore index out of range")
        return storage[k]
    }

    /// The bytes in use, valid during `body`.
    @inline(__always)
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }

    /// A copy of the bytes in use.
    public var array: [UInt8] { Array(storage[..<count]) }

    public var description: String { String(decoding: storage[..<count], as: UTF8.self) }

    public static func == (a: ByteStore, b: ByteStore) -> Bool { a.count == b.count && a.storage[..<a.count] == b.storage[..<b.count] }
}
