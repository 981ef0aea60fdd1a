extension HTTPResponseParser {
    /// The recorder, borrowed for `body` (the caller of `reset` keeps it alive).
    @inline(__always)
    func withRecorder<R>(_ body: (HeaderRecorder) -> R) -> R { recorderRef!._withUnsafeGuaranteedRef(body) }

    /// Whether the body contained the scanner's bytes (true when there is no scanner).
    public var bodyMatched: Bool { bodyScanner?.found ?? true }

    @inline(never)
    mutating func keepBody(_ bytes: UnsafeRawBufferPointer) {
        let limit = bodyLimit
        withRecorder { $0.appendBody(bytes, limit: limit) }
        recorded = true
    }

    /// Right after a kept header's name (whole in this read): the value's run of bytes, past
    /// its leading spaces, up to a control byte, kept at once instead of byte by byte. Returns
    /// where parsing goes on (the CR, or where the read ends: the rest goes byte by byte).
    @inline(never)
    mutating func keepRecordedValue(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var i = start
        while i < bytes.count && (bytes[i] == 32 || bytes[i] == 9) { i += 1 }
        headerBytes += i - start
        guard i < bytes.count, bytes[i] >= 32 else { return i }
        let run = Self.ordinaryBytes(bytes, from: i)
        headerBytes += run
        withRecorder { $0.append(UnsafeRawBufferPointer(rebasing: bytes[i..<(i + run)])) }
        // The line's CR LF at hand too (the usual case): the value ends here, as the byte-wise
        // path would end it (two more steps through `recordingStep`, about 200 instructions a login).
        if let next = Self.lineEnd(bytes, at: i + run) {
            headerBytes += 2
            withRecorder { $0.end() }
            header = .other
            state = .headerLineStart
            return next
        }
        state = .headerValue
        return i + run
    }

    /// `step` with the recorder's bookkeeping around it: a header name that arrives byte by byte,
    /// and a kept header's value split across reads. Out of line, so `step` itself (every response's byte path)
    /// carries no recorder code and no call.
    @inline(never)
    mutating func recordingStep(_ b: UInt8) -> Outcome? {
        let before = state
        let keptValue = header == .recorded
        switch before {
        case .headerLineStart where HTTPBytes.isToken(b):
            withRecorder { $0.nameBytes.removeAll() }
            withRecorder { $0.nameBytes.append(HTTPBytes.lower(b)) }
        case .headerName where b != UInt8(ascii: ":"): withRecorder { $0.nameBytes.append(HTTPBytes.lower(b)) }
        case .headerValueStart where keptValue && b != 32 && b != 9 && b != 13 && b != 10,
             .headerValue where keptValue && b != 13 && b != 10:
            withRecorder { $0.append(b) }
        default: break
        }
        let outcome = step(b)
        if before == .headerName && b == UInt8(ascii: ":") && header == .other, let k = withRecorder({ $0.matchAccumulatedName() }) {
            header = .recorded
            recordedIndex = k
            withRecorder { $0.begin(k) }
            recorded = true
        }
        if keptValue && (before == .headerValueStart || before == .headerValue) && (b == 13 || b == 10) { withRecorder { $0.end() } }
        return outcome
    }

    /// The response is content-encoded (the recorder kept its header): keep its body's first
    /// bytes for the caller to decode.
    mutating func keepBodyIfEncoded() {
        let index = encodingIndex
        if withRecorder({ $0.hasValue(of: index) }) { bodyLimit = encodedBodyLimit }
    }
}
