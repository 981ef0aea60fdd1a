import HTTP1
import Testing

/// The byte store behind the recorder, the cookie jar and captured values: a value whose copies
/// never see each other's writes, whatever grows or is overwritten.
@Suite struct ByteStoreTests {
    @Test func copiesAreIndependentThroughGrowthAndOverwrites() {
        var a = ByteStore()
        "sid=".utf8.withContiguousStorageIfAvailable { a.append(UnsafeRawBufferPointer($0)) }
        var b = a
        a.append("abc")
        #expect(a.description == "sid=abc" && b.description == "sid=")
        b.append(UInt8(ascii: "z"))
        #expect(a.description == "sid=abc" && b.description == "sid=z")
        var c = a
        "XYZ".utf8.withContiguousStorageIfAvailable { c.replace(at: 4, with: UnsafeRawBufferPointer($0)) }
        #expect(a.description == "sid=abc" && c.description == "sid=XYZ")
        for k in 0..<1000 { c.append(UInt8(k % 26) + 97) }
        #expect(c.count == 1007 && a.count == 7 && c[7] == 97 && c[1006] == UInt8(999 % 26) + 97)
        c.removeAll(releasingAbove: 64)
        #expect(c.isEmpty && c.capacity == 0)
        c.append("sid=abc")
        #expect(c == a && c != b)
        let bytes: [UInt8] = [1, 2, 3]
        var d = ByteStore()
        bytes.withUnsafeBytes { d.set($0) }
        bytes.withUnsafeBytes { d.set(UnsafeRawBufferPointer(rebasing: $0[1...])) }
        #expect(d.array == [2, 3])
    }
}
