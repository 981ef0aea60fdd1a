import CZlib

/// A `Content-Encoding: gzip` (or `deflate`, zlib-wrapped) body decoded for captures and checks:
/// at most `limit` bytes come out, and a body cut off by `capture_bytes` yields what it holds.
public enum Gunzip {
    /// The decoded bytes (up to `limit`), or nil when the input is not a gzip or zlib stream.
    public static func decode(_ input: [UInt8], limit: Int) -> [UInt8]? {
        guard !input.isEmpty, limit > 0 else { return input.isEmpty ? [] : nil }
        var stream = z_stream()
        guard stampede_inflateInitAuto(&stream) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: limit)
        var produced = 0
        var rc: Int32 = Z_OK
        input.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
                stream.avail_in = uInt(src.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(limit)
                rc = inflate(&stream, Z_SYNC_FLUSH)
                produced = limit - Int(stream.avail_out)
            }
        }
        // Z_BUF_ERROR: the output is full or the input (cut at capture_bytes) ended: keep what came.
        guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else { return nil }
        output.removeSubrange(produced...)
        return output
    }
}
