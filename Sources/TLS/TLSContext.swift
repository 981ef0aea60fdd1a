import COpenSSL

/// What OpenSSL said, with its error queue drained into text (and the certificate verification
/// result when verification failed).
public struct TLSError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let detail: String
    public var description: String { "TLS \(operation): \(detail)" }

    /// Builds an error from OpenSSL's thread-local error queue, emptying it.
    static func fromQueue(_ operation: String, fallback: String = "unknown error") -> TLSError {
        var messages: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        while case let code = ERR_get_error(), code != 0 {
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        return TLSError(operation: operation, detail: messages.isEmpty ? fallback : messages.joined(separator: "; "))
    }
}

/// A client SSL_CTX: TLS 1.2+, certificate verification against the system store (or `caFile`)
/// unless `verify` is false, partial writes allowed (non-blocking sockets), and read-ahead: one
/// `read` takes whatever the socket holds (a response's record header and body together, where
/// without it OpenSSL reads the 5-byte header, then the rest: two system calls per response).
/// Record buffers stay allocated on busy connections; `TLSStream.releaseBuffers` frees an idle
/// one's (2 × 16 KiB), which matters with thousands of connections.
///
/// Thread-safety: immutable after init; OpenSSL allows `SSL_new` from many threads on one context.
public final class TLSContext: @unchecked Sendable {
    let ctx: OpaquePointer
    public let verify: Bool

    public init(verify: Bool, caFile: String? = nil) throws(TLSError) {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw .fromQueue("SSL_CTX_new") }
        self.ctx = ctx
        self.verify = verify
        SSL_CTX_set_min_proto_version_shim(ctx)
        _ = stampede_SSL_CTX_set_mode(ctx, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        stampede_SSL_CTX_set_read_ahead(ctx, 1)
        _ = stampede_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_CLIENT))
        if verify {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
            if let caFile {
                guard SSL_CTX_load_verify_locations(ctx, caFile, nil) == 1 else {
                    throw .fromQueue("loading CA file \(caFile)")
                }
            } else if SSL_CTX_set_default_verify_paths(ctx) != 1 {
                throw .fromQueue("loading the system certificate store")
            }
        } else {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
        }
    }

    deinit { SSL_CTX_free(ctx) }
}

/// OpenSSL's runtime version text (e.g. "OpenSSL 3.0.19 27 Jan 2026").
public var openSSLRuntimeVersion: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }
