/// Bytes in an array that never shrinks, with `count` saying how many are in use. Emptying sets
/// the count to zero and appending copies into the room already there, so a buffer reused for
/// every response or session allocates nothing once it has grown, and never goes through
/// Array's generic paths (`removeAll(keepingCapacity:)` cost about 120 instructions and
/// `append(contentsOf:)` from raw bytes about 150, a cookie's worth; callgrind).
///
/// A value, copied on write: its memory is a buffer of its own (`ByteStore.Buffer`, freed once,
/// by its deinit), copied before a write when another value shares it. Appends write through a
/// pointer after one uniqueness check (through Array's `withUnsafeMutableBufferPointer` an append
/// cost about 100 instructions). Thread-safety: that of a value.
public struct ByteStore: @unchecked Sendable, Equatable, CustomStringConvertible {
    /// The memory: shared between copies until one of them writes.
    @usableFromInline
    final class Buffer {
        @usableFromInline let base: UnsafeMutableRawPointer
        @usableFromInline let capacity: Int

        @usableFromInline
        init(capacity: Int) {
            self.capacity = capacity
            base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        }

        deinit { base.deallocate() }
    }

    @usableFromInline var buffer: Buffer?
    @usableFromInline var used = 0

    public init() {}

    /// Bytes in use.
    @inlinable public var count: Int { used }

    @inlinable public var isEmpty: Bool { used == 0 }

    /// Bytes held, in use or not.
    public var capacity: Int { buffer?.capacity ?? 0 }

    @inlinable
    public mutating func removeAll() { used = 0 }

    /// Drops the last `k` bytes in use.
    @inlinable
    public mutating func removeLast(_ k: Int) { used -= Swift.min(k, used) }

    /// Empties and gives the memory back when more than `limit` bytes are held.
    public mutating func removeAll(releasingAbove limit: Int) {
        used = 0
        if capacity > limit { buffer = nil }
    }

    /// Where `n` more bytes go: this value's own memory, with room for them.
    @inlinable @inline(__always)
    mutating func reserve(_ n: Int) -> UnsafeMutableRawPointer {
        if used + n > (buffer?.capacity ?? 0) || !isKnownUniquelyReferenced(&buffer) { grow(to: used + n) }
        return buffer.unsafelyUnwrapped.base + used
    }

    @inlinable
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        let n = bytes.count
        guard n > 0 else { return }
        reserve(n).copyMemory(from: bytes.baseAddress!, byteCount: n)
        used += n
    }

    @inlinable
    public mutating func append(_ byte: UInt8) {
        reserve(1).storeBytes(of: byte, as: UInt8.self)
        used += 1
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
        let at = reserve(n)
        if let p = first.baseAddress { at.copyMemory(from: p, byteCount: first.count) }
        at.storeBytes(of: separator, toByteOffset: first.count, as: UInt8.self)
        if let p = second.baseAddress { (at + first.count + 1).copyMemory(from: p, byteCount: second.count) }
        used += n
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
        _ = reserve(0)  // this value's own memory before it is written
        (buffer.unsafelyUnwrapped.base + offset).copyMemory(from: source, byteCount: bytes.count)
    }

    /// Own memory with room for `needed` bytes, the bytes in use copied over.
    @usableFromInline
    mutating func grow(to needed: Int) {
        let old = buffer?.capacity ?? 0
        let size = needed > old ? Swift.max(needed, old * 2, 32) : Swift.max(old, 32)
        let grown = Buffer(capacity: size)
        if let buffer, used > 0 { grown.base.copyMemory(from: buffer.base, byteCount: used) }
        buffer = grown
    }

    @inlinable
    public subscript(_ k: Int) -> UInt8 {
        precondition(k >= 0 && k < used, "ByteStore index out of range")
        return buffer.unsafelyUnwrapped.base.load(fromByteOffset: k, as: UInt8.self)
    }

    /// The bytes in use, valid during `body`.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(buffer) { try body(UnsafeRawBufferPointer(start: used == 0 ? nil : buffer?.base, count: used)) }
    }

    /// A copy of the bytes in use.
    public var array: [UInt8] { withUnsafeBytes { Array($0) } }

    public var description: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }

    public static func == (a: ByteStore, b: ByteStore) -> Bool {
        a.used == b.used && a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.elementsEqual(y) } }
    }
}
