/// Strict base64 (RFC 4648 section 4, padded) decoding of a histogram's text form, straight from
/// the string's UTF-8 into bytes. The orchestrator decodes tens of thousands of histograms a
/// second; Foundation's `Data(base64Encoded:)` and the copy out of `Data` were a third of that.
enum Base64 {
    /// 0...63 for the alphabet's characters, 0xFF for anything else.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (k, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(c)] = UInt8(k)
        }
        return table
    }()

    /// The bytes `text` encodes, or nil when it is not padded base64 (a length not a multiple of
    /// 4, a character outside the alphabet, `=` anywhere but the last two places).
    static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode($0) }
    }

    static func decode(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let n = input.count
        guard n % 4 == 0 else { return nil }
        guard n > 0 else { return [] }
        let padding = input[n - 1] == UInt8(ascii: "=") ? (input[n - 2] == UInt8(ascii: "=") ? 2 : 1) : 0
        let length = n / 4 * 3 - padding
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { out, initialized in
            values.withUnsafeBufferPointer { table in
                var o = 0
                var i = 0
                while i < n {
                    let last = i + 4 == n
                    let a = table[Int(input[i])], b = table[Int(input[i + 1])]
                    let c = last && padding == 2 ? 0 : table[Int(input[i + 2])]
                    let d = last && padding >= 1 ? 0 : table[Int(input[i + 3])]
                    if (a | b | c | d) & 0xC0 != 0 { failed = true; break }
                    let word = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    out[o] = UInt8(truncatingIfNeeded: word >> 16)
                    if o + 1 < length { out[o + 1] = UInt8(truncatingIfNeeded: word >> 8) }
                    if o + 2 < length { out[o + 2] = UInt8(truncatingIfNeeded: word) }
                    o += 3
                    i += 4
                }
            }
            initialized = failed ? 0 : length
        }
        return failed ? nil : bytes
    }
}
