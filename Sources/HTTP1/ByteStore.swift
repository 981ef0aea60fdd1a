/// Bytes in an array that never shrinks, with `count` saying how many are in use. Emptying sets
/// the count to zero and appending copies into the room already there, so a buffer reused for
/// every response or session allocates nothing once it has grown, and never goes through
/// Array's generic paths (`removeAll(keepingCapacity:)` cost about 120 instructions and
/// `append(contentsOf:)` from raw bytes about 150, a cookie's worth; callgrind).
///
/// A value, copied on write like the array it holds. Thread-safety: that of a value.
public struct ByteStore: Sendable, Equatable, CustomStringConvertible {
    // Inlinable: the request path calls these from other modules, where a call through the
    // generic `withUnsafeBytes` instantiated metadata at run time (about 300 instructions a
    // journey request).
    @usableFromInline var storage: [UInt8] = []
    @usableFromInline var used = 0

    public init() {}

    public init(_ bytes: some Sequence<UInt8>) {
        storage = Array(bytes)
        used = storage.count
    }

    /// Bytes in use.
    @inlinable public var count: Int { used }

    @inlinable public var isEmpty: Bool { used == 0 }

    /// Bytes held, in use or not.
    public var capacity: Int { storage.count }

    @inlinable
    public mutating func removeAll() { used = 0 }

    /// Drops the last `k` bytes in use.
    @inlinable
    public mutating func removeLast(_ k: Int) { used -= Swift.min(k, used) }

    /// Empties and gives the memory back when more than `limit` bytes are held.
    public mutating func removeAll(releasingAbove limit: Int) {
        used = 0
        if storage.count > limit { storage = [] }
    }

    @inlinable
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n > 0 else { return }
        if used + n > storage.count { grow(to: used + n) }
        let at = used
        storage.withUnsafeMutableBufferPointer { UnsafeMutableRawPointer($0.baseAddress! + at).copyMemory(from: bytes.baseAddress!, byteCount: n) }
        used += n
    }

    /// Holds `bytes` and nothing else (one mutation, not an empty and an append).
    @inlinable
    public mutating func set(_ bytes: UnsafeRawBufferPointer) {
        used = 0
        append(bytes)
    }

    /// `first`, `separator` and `second` at once (a cookie's name, "=", its value).
    @inlinable
    public mutating func append(_ first: UnsafeRawBufferPointer, joinedBy separator: UInt8, _ second: UnsafeRawBufferPointer) {
        let n = first.count + 1 + second.count
        if used + n > storage.count { grow(to: used + n) }
        let at = used
        storage.withUnsafeMutableBufferPointer { buffer in
            let base = UnsafeMutableRawPointer(buffer.baseAddress! + at)
            if let p = first.baseAddress { base.copyMemory(from: p, byteCount: first.count) }
            base.storeBytes(of: separator, toByteOffset: first.count, as: UInt8.self)
            if let p = second.baseAddress { (base + first.count + 1).copyMemory(from: p, byteCount: second.count) }
        }
        used += n
    }

    @inlinable
    public mutating func append(_ byte: UInt8) {
        if used == storage.count { grow(to: used + 1) }
        storage[used] = byte
        used += 1
    }

    @inlinable
    public mutating func append(_ bytes: ByteStore) {
        bytes.withUnsafeBytes { append($0) }
    }

    @inlinable
    public mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// Overwrites bytes in use, from `offset` on (`bytes` must fit within `count`).
    @inlinable
    public mutating func replace(at offset: Int, with bytes: UnsafeRawBufferPointer) {
        precondition(offset >= 0 && offset + bytes.count <= used, "ByteStore.replace past the bytes in use")
        guard let source = bytes.baseAddress else { return }
        storage.withUnsafeMutableBufferPointer { UnsafeMutableRawPointer($0.baseAddress! + offset).copyMemory(from: source, byteCount: bytes.count) }
    }

    @usableFromInline
    mutating func grow(to needed: Int) {
        let size = Swift.max(needed, storage.count * 2, 32)
        storage.append(contentsOf: repeatElement(0, count: size - storage.count))
    }

    @inlinable
    public subscript(_ k: Int) -> UInt8 {
        precondition(k >= 0 && k < used, "ByteStore index out of range")
        return storage[k]
    }

    /// The bytes in use, valid during `body`.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { try body(UnsafeRawBufferPointer(start: $0.baseAddress, count: used)) }
    }

    /// A copy of the bytes in use.
    public var array: [UInt8] { Array(storage[..<used]) }

    public var description: String { String(decoding: storage[..<used], as: UTF8.self) }

    public static func == (a: ByteStore, b: ByteStore) -> Bool { a.used == b.used && a.storage[..<a.used] == b.storage[..<b.used] }
}
