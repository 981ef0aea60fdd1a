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
    /// otherwise expand without bound). Inflates straight into the result, growing it as needed.
    static func decompress(_ input: ArraySlice<UInt8>, limit: Int) throws(HistogramError) -> [UInt8] {
        var stream = z_stream()
        var rc = stampede_inflateInit(&stream)
        guard rc == Z_OK else { throw .compression(code: rc, message: "inflateInit failed") }
        defer { inflateEnd(&stream) }

        // Histogram encodings inflate 3-6x; most fit the first guess (small: a bus message's
        // histograms are mostly a few hundred bytes, and zeroing 4 KiB for each showed).
        var output = [UInt8](repeating: 0, count: Swift.min(limit, Swift.max(256, input.count * 8)))
        var produced = 0
        let result: Int32 = input.withUnsafeBufferPointer { src in
            stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
            stream.avail_in = uInt(src.count)
            while true {
                if produced == output.count {
                    guard output.count < limit else { return Z_BUF_ERROR }
                    output.append(contentsOf: repeatElement(0, count: Swift.min(output.count, limit - output.count)))
                }
                let room = output.count - produced
                output.withUnsafeMutableBufferPointer { buf in
                    stream.next_out = buf.baseAddress! + produced
                    stream.avail_out = uInt(room)
                    // Z_FINISH: the whole input is here, so zlib inflates straight into the
                    // output without allocating and filling its 32 KiB window.
                    rc = inflate(&stream, Z_FINISH)
                    produced += room - Int(stream.avail_out)
                }
                switch rc {
                case Z_STREAM_END: return Z_OK
                case Z_OK: continue
                case Z_BUF_ERROR where stream.avail_out > 0: return Z_DATA_ERROR  // input ended early: truncated
                case Z_BUF_ERROR: continue  // output full: grow
                default: return rc
                }
            }
        }
        guard result == Z_OK else {
            let message = stream.msg.map { String(cString: $0) }
                ?? (result == Z_BUF_ERROR ? "output exceeds \(limit) bytes" : "truncated or corrupt stream")
            throw .compression(code: result, message: message)
        }
        output.removeSubrange(produced...)
        return output
    }

    /// Runtime zlib version (e.g. "1.2.13").
    static var version: String { String(cString: zlibVersion()) }
}

/// The runtime zlib version, for `stampede version`.
public var zlibRuntimeVersion: String { Zlib.version }
