/// An incremental HTTP/1.1 response parser for the load generator's hot path.
///
/// It keeps no bytes: feed it whatever `read` returned, in any split, and it advances a small state
/// machine (status line, headers, then a Content-Length, chunked or read-until-close body), so one
/// read buffer per thread serves every connection and nothing is allocated per response. It
/// understands Content-Length, Transfer-Encoding: chunked, Connection: close/keep-alive, HTTP/1.0,
/// 1xx interim responses, and bodiless responses (HEAD, 204, 304). Header blocks are capped
/// (`maxHeaderBytes`); bodies are skipped, so an endless body costs time (the caller's timeout),
/// never memory.
public struct HTTPResponseParser: Sendable {
    public enum Outcome: Equatable, Sendable {
        case needMore
        /// A whole response: its status, and whether the connection may carry the next request.
        case complete(status: Int, keepAlive: Bool)
        case error(HTTPParseError)
    }

    public let maxHeaderBytes: Int
    /// Runs over the body bytes as they are skipped (`expect_body`); nil: bodies are not looked at.
    public internal(set) var bodyScanner: SubstringScanner?
    /// Keeps named headers (`Set-Cookie`, captures); nil: every header is skipped. Not retained:
    /// the caller of `reset` keeps it alive while the response is parsed, and each use borrows it
    /// (`withRecorder`: an unowned(unsafe) reference was still retained and released per call).
    var recorderRef: Unmanaged<HeaderRecorder>?
    /// Copied at `reset`, so hot paths test these, not the recorder (a class: each access to it is
    /// checked for exclusivity): its name lengths (0: no recorder) and the body bytes to keep.
    var recordMask: UInt64 = 0
    var bodyLimit = 0
    /// `expect_body` over a content-encoded body: the body's first bytes (up to this) are kept
    /// when the recorder's header `encodingIndex` came, so the caller can search it decoded.
    var encodedBodyLimit = 0, encodingIndex = -1
    /// Something of this response went to the recorder (a kept header, body bytes).
    public internal(set) var recorded = false
    var recordedIndex = 0

    var state: State = .statusH
    var status = 0
    var minorVersion = 1
    var headerBytes = 0
    var contentLength: Int64 = -1
    var chunked = false
    var closeToken = false
    var keepAliveToken = false
    var remaining: Int64 = 0
    var bodiless = false
    var header: Header = .other
    var nameLength = 0
    var chunkLineBytes = 0
    var candidates: UInt8 = 0
    var tokenMatch: (chunked: Int8, close: Int8, keepAlive: Int8) = (0, 0, 0)

    public init(maxHeaderBytes: Int = 64 * 1024) { self.maxHeaderBytes = maxHeaderBytes }

    enum State: UInt8 {
        case statusH, statusT1, statusT2, statusP, statusSlash, statusMajor, statusDot, statusMinor
        case statusSpace, statusCode1, statusCode2, statusCode3, statusReason, statusLF
        case headerLineStart, headerName, headerValueStart, headerValue, headerLF, headersEndLF
        case bodyIdentity, bodyUntilClose
        case chunkSize, chunkExtension, chunkSizeLF, chunkData, chunkDataCR, chunkDataLF
        case trailerLineStart, trailerLine, trailerLF, finalLF
        case done, failed
    }

    /// `recorded`: a header the recorder keeps (which one: `recordedIndex`).
    enum Header { case other, contentLength, transferEncoding, connection, recorded }

    // Header names we act on, lowercase; a bit each in `candidates`.
    static let names: (StaticString, StaticString, StaticString) = ("content-length", "transfer-encoding", "connection")
    static let lengths: (Int, Int, Int) = (14, 17, 10)

    /// Consumes bytes up to the end of the current response. Returns how many were used: on
    /// `.complete`, bytes after that point belong to no request we sent.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, outcome: Outcome) {
        var i = 0
        let n = bytes.count
        while i < n {
            // Bulk paths first: bodies are skipped, not stepped through.
            switch state {
            case .bodyIdentity, .chunkData:
                let take = Int(Swift.min(remaining, Int64(n - i)))
                if bodyScanner != nil { bodyScanner!.scan(UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)])) }
                if bodyLimit > 0 { keepBody(UnsafeRawBufferPointer(rebasing: bytes[i..<(i + take)])) }
                remaining -= Int64(take)
                i += take
                if remaining == 0 {
                    if state == .bodyIdentity { return (i, finish()) }
                    state = .chunkDataCR
                }
                continue
            case .bodyUntilClose:
                if bodyScanner != nil { bodyScanner!.scan(UnsafeRawBufferPointer(rebasing: bytes[i..<n])) }
                if bodyLimit > 0 { keepBody(UnsafeRawBufferPointer(rebasing: bytes[i..<n])) }
                return (n, .needMore)
            case .statusH where n - i >= 13:
                // Whole status-line prefix at hand ("HTTP/1.1 200 "): check it in one go.
                if let next = fastStatusPrefix(bytes, at: i) {
                    headerBytes += next - i
                    i = next
                    continue
                }
            case .headerLineStart:
                if let next = Self.lineEnd(bytes, at: i) {
                    // The blank line: the header block ends.
                    headerBytes += 2
                    if headerBytes > maxHeaderBytes { return (next, fail(.headersTooLarge(limit: maxHeaderBytes))) }
                    i = next
                    if let outcome = headersEnded() { return (i, outcome) }
                    continue
                }
                // A whole header name at hand: classify it at once instead of byte by byte.
                var j = i
                while j < n && HTTPBytes.isToken(bytes[j]) { j += 1 }
                if j > i && j < n && bytes[j] == UInt8(ascii: ":") {
                    headerBytes += j + 1 - i
                    if headerBytes > maxHeaderBytes { return (j + 1, fail(.headersTooLarge(limit: maxHeaderBytes))) }
                    var which = Self.classify(bytes, from: i, to: j)
                    if recordMask != 0 && which == .other && recordMask & HeaderRecorder.lengthBit(j - i) != 0,
                       let k = withRecorder({ $0.match(bytes, from: i, to: j) }) {
                        which = .recorded
                        recordedIndex = k
                        withRecorder { $0.begin(k) }
                        recorded = true
                    }
                    if let error = beginValue(which) { return (j + 1, error) }
                    i = which == .recorded ? keepRecordedValue(bytes, from: j + 1) : j + 1
                    if headerBytes > maxHeaderBytes { return (i, fail(.headersTooLarge(limit: maxHeaderBytes))) }
                    continue
                }
            case .statusReason:
                let skipped = Self.ordinaryBytes(bytes, from: i)
                let next = Self.lineEnd(bytes, at: i + skipped)
                if skipped > 0 || next != nil {
                    headerBytes += (next ?? i + skipped) - i
                    if headerBytes > maxHeaderBytes { return (i + skipped, fail(.headersTooLarge(limit: maxHeaderBytes))) }
                    i = next ?? i + skipped
                    if next != nil { state = .headerLineStart }
                    continue
                }
            case .headerValueStart where header != .recorded, .headerValue where header != .recorded:
                if let next = valueAtHand(bytes, from: i) {
                    headerBytes += next - i
                    if headerBytes > maxHeaderBytes { return (next, fail(.headersTooLarge(limit: maxHeaderBytes))) }
                    i = next
                    continue
                }
                guard header == .other else { break }
                // Values of headers we ignore (Date, Server, Content-Type, ...) are most of the
                // header block: skip them 16 bytes at a time, stopping at the first control byte
                // (CR, LF, or one that makes the header invalid) for the byte-wise path.
                let skipped = Self.ordinaryBytes(bytes, from: i)
                if skipped > 0 {
                    headerBytes += skipped
                    if headerBytes > maxHeaderBytes { return (i + skipped, fail(.headersTooLarge(limit: maxHeaderBytes))) }
                    state = .headerValue
                    i += skipped
                    continue
                }
            default:
                break
            }
            let b = bytes[i]
            i += 1
            if state.rawValue < State.bodyIdentity.rawValue {
                headerBytes += 1
                if headerBytes > maxHeaderBytes { return (i, fail(.headersTooLarge(limit: maxHeaderBytes))) }
            }
            // Only a name arriving byte by byte or a kept header's value needs the recorder.
            if recordMask != 0 && (header == .recorded || state == .headerName || state == .headerLineStart) {
                if let outcome = recordingStep(b) { return (i, outcome) }
                continue
            }
            if let outcome = step(b) { return (i, outcome) }
        }
        return (n, .needMore)
    }

    /// The peer closed the connection: completes a read-until-close body, otherwise an error
    /// (or `.needMore` if no byte of a response had arrived).
    public mutating func parseEOF() -> Outcome {
        switch state {
        case .bodyUntilClose: state = .done; return .complete(status: status, keepAlive: false)
        case .statusH where headerBytes == 0: return .error(.truncated)
        default: return fail(.truncated)
        }
    }

    private mutating func fail(_ error: HTTPParseError) -> Outcome {
        state = .failed
        return .error(error)
    }

    private mutating func finish() -> Outcome {
        state = .done
        let keepAlive = minorVersion >= 1 ? !closeToken : keepAliveToken && !closeToken
        return .complete(status: status, keepAlive: keepAlive)
    }

    // One byte of status line, headers or chunk framing. Returns an outcome when the message ends
    // or fails.
    mutating func step(_ b: UInt8) -> Outcome? {
        switch state {
        case .statusH: if b == UInt8(ascii: "H") { state = .statusT1 } else { return fail(.invalidStatusLine) }
        case .statusT1: if b == UInt8(ascii: "T") { state = .statusT2 } else { return fail(.invalidStatusLine) }
        case .statusT2: if b == UInt8(ascii: "T") { state = .statusP } else { return fail(.invalidStatusLine) }
        case .statusP: if b == UInt8(ascii: "P") { state = .statusSlash } else { return fail(.invalidStatusLine) }
        case .statusSlash: if b == UInt8(ascii: "/") { state = .statusMajor } else { return fail(.invalidStatusLine) }
        case .statusMajor: if b == UInt8(ascii: "1") { state = .statusDot } else { return fail(.invalidStatusLine) }
        case .statusDot: if b == UInt8(ascii: ".") { state = .statusMinor } else { return fail(.invalidStatusLine) }
        case .statusMinor:
            guard HTTPBytes.isDigit(b) else { return fail(.invalidStatusLine) }
            minorVersion = Int(b - 48)
            state = .statusSpace
        case .statusSpace: if b == UInt8(ascii: " ") { state = .statusCode1 } else { return fail(.invalidStatusLine) }
        case .statusCode1, .statusCode2, .statusCode3:
            guard HTTPBytes.isDigit(b) else { return fail(.invalidStatusLine) }
            status = status * 10 + Int(b - 48)
            state = state == .statusCode1 ? .statusCode2 : state == .statusCode2 ? .statusCode3 : .statusReason
            if state == .statusReason && status < 100 { return fail(.invalidStatusLine) }
        case .statusReason:
            if b == 13 { state = .statusLF } else if b == 10 { state = .headerLineStart }
            else if b < 32 && b != 9 { return fail(.invalidStatusLine) }
        case .statusLF: if b == 10 { state = .headerLineStart } else { return fail(.invalidStatusLine) }

        case .headerLineStart:
            if b == 13 { state = .headersEndLF; return nil }
            if b == 10 { return headersEnded() }
            guard HTTPBytes.isToken(b) else { return fail(.invalidHeader) }
            candidates = 0b111
            nameLength = 0
            state = .headerName
            return matchName(b)
        case .headerName:
            if b == UInt8(ascii: ":") {
                var which = Header.other
                if candidates & 1 != 0 && nameLength == Self.lengths.0 { which = .contentLength }
                else if candidates & 2 != 0 && nameLength == Self.lengths.1 { which = .transferEncoding }
                else if candidates & 4 != 0 && nameLength == Self.lengths.2 { which = .connection }
                return beginValue(which)
            }
            guard HTTPBytes.isToken(b) else { return fail(.invalidHeader) }
            return matchName(b)
        case .headerValueStart, .headerValue:
            if b == 13 || b == 10 {
                if let error = endValue() { return error }
                if b == 10 { state = .headerLineStart } else { state = .headerLF }
                return nil
            }
            if state == .headerValueStart && (b == 32 || b == 9) { return nil }
            state = .headerValue
            if b < 32 && b != 9 { return fail(.invalidHeader) }
            return valueByte(b)
        case .headerLF: if b == 10 { state = .headerLineStart } else { return fail(.invalidHeader) }
        case .headersEndLF: if b == 10 { return headersEnded() } else { return fail(.invalidHeader) }

        case .chunkSize:
            if let digit = HTTPBytes.hexValue(b) {
                guard remaining < (Int64.max >> 4) else { return fail(.invalidChunk) }
                remaining = remaining << 4 | Int64(digit)
            } else if b == UInt8(ascii: ";") || b == 32 || b == 9 {
                state = .chunkExtension
            } else if b == 13 {
                state = .chunkSizeLF
            } else if b == 10 {
                return chunkSizeEnded()
            } else {
                return fail(.invalidChunk)
            }
        case .chunkExtension:
            // One chunk-size line (with its extensions) may not exceed the header limit.
            chunkLineBytes += 1
            if chunkLineBytes > maxHeaderBytes { return fail(.invalidChunk) }
            if b == 13 { state = .chunkSizeLF } else if b == 10 { return chunkSizeEnded() }
        case .chunkSizeLF: if b == 10 { return chunkSizeEnded() } else { return fail(.invalidChunk) }
        case .chunkDataCR:
            if b == 13 { state = .chunkDataLF } else if b == 10 { startChunk() } else { return fail(.invalidChunk) }
        case .chunkDataLF: if b == 10 { startChunk() } else { return fail(.invalidChunk) }
        case .trailerLineStart:
            if b == 13 { state = .finalLF } else if b == 10 { return finish() } else { state = .trailerLine }
        case .trailerLine:
            if b == 13 { state = .trailerLF } else if b == 10 { state = .trailerLineStart }
        case .trailerLF: if b == 10 { state = .trailerLineStart } else { return fail(.invalidChunk) }
        case .finalLF: if b == 10 { return finish() } else { return fail(.invalidChunk) }

        case .done: return fail(.unexpectedData)
        case .failed: return .error(.unexpectedData)
        case .bodyIdentity, .bodyUntilClose, .chunkData: break  // handled in bulk by parse()
        }
        return nil
    }

    /// The name is complete: prepare to read its value.
    private mutating func beginValue(_ which: Header) -> Outcome? {
        header = which
        switch which {
        case .transferEncoding: tokenMatch.chunked = 0; chunked = false
        case .connection: tokenMatch.close = 0; tokenMatch.keepAlive = 0
        case .recorded: break  // the recorder is told by the caller
        case .contentLength:
            if contentLength >= 0 { return fail(.invalidContentLength) }  // repeated: ambiguous framing
            contentLength = -2  // digits pending
        case .other: break
        }
        state = .headerValueStart
        return nil
    }

    private mutating func matchName(_ b: UInt8) -> Outcome? {
        let c = HTTPBytes.lower(b)
        let pos = nameLength
        if candidates & 1 != 0 && (pos >= Self.lengths.0 || Self.names.0.utf8Start[pos] != c) { candidates &= ~1 }
        if candidates & 2 != 0 && (pos >= Self.lengths.1 || Self.names.1.utf8Start[pos] != c) { candidates &= ~2 }
        if candidates & 4 != 0 && (pos >= Self.lengths.2 || Self.names.2.utf8Start[pos] != c) { candidates &= ~4 }
        nameLength += 1
        return nil
    }

    private mutating func valueByte(_ b: UInt8) -> Outcome? {
        switch header {
        case .other: break
        case .recorded: break  // kept by recordingStep
        case .contentLength:
            guard HTTPBytes.isDigit(b) else { return fail(.invalidContentLength) }
            let current = contentLength < 0 ? 0 : contentLength
            guard current < Int64.max / 10 - 9 else { return fail(.invalidContentLength) }
            contentLength = current * 10 + Int64(b - 48)
        case .transferEncoding:
            Self.token(&tokenMatch.chunked, HTTPBytes.lower(b), "chunked", 7)
        case .connection:
            let c = HTTPBytes.lower(b)
            Self.token(&tokenMatch.close, c, "close", 5)
            Self.token(&tokenMatch.keepAlive, c, "keep-alive", 10)
            if tokenMatch.close == 5 { closeToken = true }
            if tokenMatch.keepAlive == 10 { keepAliveToken = true }
        }
        return nil
    }

    private mutating func endValue() -> Outcome? {
        switch header {
        case .contentLength: if contentLength < 0 { return fail(.invalidContentLength) }
        case .transferEncoding: chunked = tokenMatch.chunked == 7  // chunked must be the last coding
        case .recorded: break
        default: break
        }
        header = .other
        return nil
    }

    private mutating func headersEnded() -> Outcome? {
        if status < 200 && status != 101 {
            // Interim response (100 Continue, 103 Early Hints): the real one follows.
            let keep = (bodiless, maxHeaderBytes, headerBytes, bodyScanner, recorderRef, recordMask, bodyLimit, recorded, encodedBodyLimit, encodingIndex)
            self = HTTPResponseParser(maxHeaderBytes: keep.1)
            bodiless = keep.0
            headerBytes = keep.2
            bodyScanner = keep.3
            recorderRef = keep.4
            recordMask = keep.5
            bodyLimit = keep.6
            (encodedBodyLimit, encodingIndex) = (keep.8, keep.9)
            if keep.7 { withRecorder { $0.reset() } }
            return nil
        }
        if encodedBodyLimit > 0 && bodyLimit == 0 { keepBodyIfEncoded() }
        if bodiless || status == 204 || status == 304 || status == 101 { return finish() }
        if chunked { startChunk(); return nil }
        if contentLength >= 0 {
            if contentLength == 0 { return finish() }
            remaining = contentLength
            state = .bodyIdentity
            return nil
        }
        state = .bodyUntilClose
        closeToken = true
        return nil
    }
}
