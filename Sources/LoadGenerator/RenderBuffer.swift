import HTTP1
import StampedeModel

/// A growable byte buffer that owns its memory (freed once, by `free()`), so a connection can keep
/// writing from it across partial writes. It grows when a request outgrows it and is reused for
/// every later request: rendering allocates nothing in steady state.
struct RenderBuffer {
    private(set) var base: UnsafeMutableRawPointer?
    private(set) var capacity = 0
    var count = 0

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    mutating func removeAll() { count = 0 }

    @inline(__always)
    mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let size = Swift.max(256, Swift.max(capacity * 2, count + extra))
        let grown = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
        if let base {
            grown.copyMemory(from: base, byteCount: count)
            base.deallocate()
        }
        base = grown
        capacity = size
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        reserve(bytes.count)
        (base! + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        count += bytes.count
    }

    /// Appends bytes there is room for (`reserve` made it).
    @inline(__always)
    mutating func appendReserved(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress else { return }
        (base! + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    mutating func append(_ bytes: [UInt8]) { bytes.withUnsafeBytes { append($0) } }

    /// A row value as its template filter writes it (unfiltered: copied at once).
    mutating func append(_ value: [UInt8], _ filter: Template.Filter) {
        value.withUnsafeBytes { append($0, filter) }
    }

    /// A captured variable's value, the same way.
    mutating func append(_ value: ByteStore, _ filter: Template.Filter) {
        value.withUnsafeBytes { append($0, filter) }
    }

    mutating func append(_ value: UnsafeRawBufferPointer, _ filter: Template.Filter) {
        if filter == .none { append(value) } else { filter.write(value) { append(byte: $0) } }
    }

    @inline(__always)
    mutating func append(byte: UInt8) {
        reserve(1)
        base!.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Appends `value` in decimal, without building a String.
    mutating func append(decimal value: Int64) {
        reserve(20)
        var v = value.magnitude
        if value < 0 { append(byte: UInt8(ascii: "-")) }
        let start = count
        repeat {
            base!.storeBytes(of: UInt8(truncatingIfNeeded: v % 10) &+ 48, toByteOffset: count, as: UInt8.self)
            count += 1
            v /= 10
        } while v > 0
        var a = start, b = count - 1
        while a < b {
            let t = base!.load(fromByteOffset: a, as: UInt8.self)
            base!.storeBytes(of: base!.load(fromByteOffset: b, as: UInt8.self), toByteOffset: a, as: UInt8.self)
            base!.storeBytes(of: t, toByteOffset: b, as: UInt8.self)
            a += 1; b -= 1
        }
    }

    /// Appends a random (version 4) UUID in its 36-character text form.
    mutating func appendUUID(_ random: inout SplitMix64) {
        let hex: StaticString = "0123456789abcdef"
        var hi = random.next(), lo = random.next()
        hi = (hi & ~0xF000) | 0x4000                              // version 4
        lo = (lo & ~(0xC << 60)) | (0x8 << 60)                    // RFC 4122 variant
        reserve(36)
        for k in 0..<32 {
            if k == 8 || k == 12 || k == 16 || k == 20 { append(byte: UInt8(ascii: "-")) }
            let word = k < 16 ? hi : lo
            let nibble = Int((word >> UInt64(60 - 4 * (k % 16))) & 0xF)
            append(byte: hex.utf8Start[nibble])
        }
    }

    mutating func free() {
        base?.deallocate()
        base = nil
        capacity = 0
        count = 0
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast generator, good enough to pick requests
/// and fill templates; each worker owns one, seeded from the test's seed.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<bound (bound > 0), by Lemire's multiply-shift (bias below 2^-32 for small bounds).
    @inline(__always)
    mutating func next(below bound: UInt64) -> UInt64 {
        next().multipliedFullWidth(by: bound).high
    }

    /// Uniform in [0, 1).
    @inline(__always)
    mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// A worker's own buffers: where a socket's bytes are read, and where a hop, a cookie line or
/// an `expect_body` is rendered. Allocated once, freed by the worker.
struct WorkerBuffers {
    let read = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 64)
    /// Holds a templated body while its length is measured, and a request being rewritten.
    var scratch = RenderBuffer()
    /// Where a templated `expect_body` is rendered.
    var expect = RenderBuffer()

    mutating func free() {
        read.deallocate()
        scratch.free()
        expect.free()
    }
}
