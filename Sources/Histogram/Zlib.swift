import CZlib

/// zlib streams (RFC 1950) as HdrHistogram's compressed encoding uses them. Every `z_stream` is
/// created and ended inside one call, so no C state outlives it.
enum Zlib {
    /// Compresses `input` into a zlib stream at the default level.
    static func compress(_ input: [UInt8]) throws(HistogramError) -> [UInt8] {
        var capacity = Int(compressBound(uLong(input.count)))
        var output = [UInt8](repeating: 0, count: capacity)
        let rc = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { src in
                var outLength = uLongf(capacity)
                let rc = compress2(out.baseAddress, &outLength, src.baseAddress, uLong(src.count),
                                   Z_DEFAULT_COMPRESSION)
                capacity = Int(outLength)
                return rc
            }
        }
        guard rc == Z_OK else { throw .compression(code: rc, message: "compress2 failed") }
        output.removeSubrange(capacity...)
        return output
    }

    /// Inflates a zlib stream, refusing to produce more than `limit` bytes (a hostile stream could
    /// otherwise expand without bound).
    static func decompress(_ input: ArraySlice<UInt8>, limit: Int) throws(HistogramError) -> [UInt8] {
        var stream = z_stream()
        var rc = stampede_inflateInit(&stream)
        guard rc == Z_OK else { throw .compression(code: rc, message: "inflateInit failed") }
        defer { inflateEnd(&stream) }

        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let result: Int32 = input.withUnsafeBufferPointer { src in
            stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
            stream.avail_in = uInt(src.count)
            while true {
                let produced: Int = chunk.withUnsafeMutableBufferPointer { buf in
                    stream.next_out = buf.baseAddress
                    stream.avail_out = uInt(buf.count)
                    rc = inflate(&stream, Z_NO_FLUSH)
                    return buf.count - Int(stream.avail_out)
                }
                if output.count + produced > limit { return Z_BUF_ERROR }
                output.append(contentsOf: chunk[0..<produced])
                switch rc {
                case Z_STREAM_END: return Z_OK
                case Z_OK: if produced == 0 && stream.avail_in == 0 { return Z_DATA_ERROR }  // truncated
                default: return rc
                }
            }
        }
        guard result == Z_OK else {
            let message = stream.msg.map { String(cString: $0) }
                ?? (result == Z_BUF_ERROR ? "output exceeds \(limit) bytes" : "truncated or corrupt stream")
            throw .compression(code: result, message: message)
        }
        return output
    }

    /// Runtime zlib version (e.g. "1.2.13").
    static var version: String { String(cString: zlibVersion()) }
}

/// The runtime zlib version, for `stampede version`.
public var zlibRuntimeVersion: String { Zlib.version }
