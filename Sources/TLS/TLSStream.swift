import COpenSSL

/// A session kept from a finished handshake so the next connection to the same server can resume
/// it (no full handshake on reconnect). Owns one SSL_SESSION reference.
public final class TLSSavedSession {
    let session: OpaquePointer
    init(_ session: OpaquePointer) { self.session = session }
    deinit { SSL_SESSION_free(session) }
}

/// Outcome of a non-blocking TLS step.
public enum TLSProgress: Equatable {
    case done(Int)
    case wantRead
    case wantWrite
    /// The peer closed the TLS session (close_notify or EOF).
    case closed
}

/// One client TLS connection over a non-blocking socket it does not own. Owns its SSL*.
public final class TLSStream {
    let ssl: OpaquePointer
    private let verify: Bool

    /// - Parameters:
    ///   - serverName: sent as SNI (unless an IP literal) and checked against the certificate.
    ///   - resume: a session from an earlier connection to the same server.
    public init(context: TLSContext, fd: Int32, serverName: String, resume: TLSSavedSession?) throws(TLSError) {
        guard let ssl = SSL_new(context.ctx) else { throw .fromQueue("SSL_new") }
        self.ssl = ssl
        self.verify = context.verify
        SSL_set_fd(ssl, fd)
        let isIP = serverName.contains(":") || serverName.split(separator: ".").allSatisfy { UInt8($0) != nil }
        if !isIP { _ = stampede_SSL_set_tlsext_host_name(ssl, serverName) }
        if context.verify {
            let ok = isIP ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), serverName)
                          : SSL_set1_host(ssl, serverName)
            guard ok == 1 else { throw .fromQueue("setting the expected host \(serverName)") }
        }
        if let resume { SSL_set_session(ssl, resume.session) }
        SSL_set_connect_state(ssl)
    }

    deinit { SSL_free(ssl) }

    /// Advances the handshake.
    /// - Throws: `TLSError` with OpenSSL's reason, or the certificate verification failure.
    public func handshake() throws(TLSError) -> TLSProgress {
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return .done(0) }
        return try progress(rc, "handshake")
    }

    /// Whether the last handshake resumed a saved session.
    public var resumed: Bool { SSL_session_reused(ssl) == 1 }

    /// A resumable session to offer on the next connection, if the server issued one.
    public func savedSession() -> TLSSavedSession? {
        guard let session = SSL_get1_session(ssl) else { return nil }
        guard SSL_SESSION_is_resumable(session) == 1 else { SSL_SESSION_free(session); return nil }
        return TLSSavedSession(session)
    }

    @inline(__always)
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> TLSProgress {
        let rc = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
        if rc > 0 { return .done(Int(rc)) }
        return try progress(rc, "read")
    }

    @inline(__always)
    public func write(_ bytes: UnsafeRawBufferPointer) throws(TLSError) -> TLSProgress {
        let rc = SSL_write(ssl, bytes.baseAddress, Int32(bytes.count))
        if rc > 0 { return .done(Int(rc)) }
        return try progress(rc, "write")
    }

    /// Records that the connection ended cleanly (e.g. after a `Connection: close` response), so
    /// freeing it does not mark its session unresumable, as OpenSSL does for unfinished sessions.
    public func markCleanClose() {
        SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN)
    }

    /// Whether OpenSSL holds bytes the socket will not signal again: decrypted, or (read-ahead)
    /// records read from the socket and not yet processed.
    public var hasPending: Bool { SSL_has_pending(ssl) == 1 }

    /// Frees the record buffers of an idle connection (OpenSSL allocates them again when the
    /// connection is next used). Does nothing while they hold data.
    public func releaseBuffers() {
        _ = SSL_free_buffers(ssl)
    }

    private func progress(_ rc: Int32, _ operation: String) throws(TLSError) -> TLSProgress {
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL:
            let error = TLSError.fromQueue(operation, fallback: "")
            if error.detail.isEmpty { return .closed }  // EOF without close_notify: the peer went away
            throw error
        default:
            if verify, case let result = SSL_get_verify_result(ssl), result != X509_V_OK {
                ERR_clear_error()
                throw TLSError(operation: operation, detail: "certificate verification failed: \(String(cString: X509_verify_cert_error_string(Int(result))))")
            }
            throw .fromQueue(operation)
        }
    }
}
