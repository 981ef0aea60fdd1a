extension HTTPResponseParser {
    /// How many bytes from `start` are >= 0x20 (no control characters).
    @inline(__always)
    static func ordinaryBytes(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        let n = bytes.count
        var j = start
        if let base = bytes.baseAddress {
            let space = SIMD16<UInt8>(repeating: 32)
            while j + 16 <= n {
                let block = base.loadUnaligned(fromByteOffset: j, as: SIMD16<UInt8>.self)
                if any(block .< space) { break }
                j += 16
            }
        }
        while j < n && bytes[j] >= 32 { j += 1 }
        return j - start
    }
}
