extension HTTPResponseParser {
    /// Whether the body contained the scanner's bytes (true when there is no scanner).
    public var bodyMatched: Bool { bodyScanner?.found ?? true }

    @inline(never)
    mutating func keepBody(_ bytes: UnsafeRawBufferPointer) {
        recorder!.appendBody(bytes, limit: bodyLimit)
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
        recorder!.append(UnsafeRawBufferPointer(rebasing: bytes[i..<(i + run)]))
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
            recorder!.nameBytes.removeAll()
            recorder!.nameBytes.append(HTTPBytes.lower(b))
        case .headerName where b != UInt8(ascii: ":"): recorder!.nameBytes.append(HTTPBytes.lower(b))
        case .headerValueStart where keptValue && b != 32 && b != 9 && b != 13 && b != 10,
             .headerValue where keptValue && b != 13 && b != 10:
            recorder!.append(b)
        default: break
        }
        let outcome = step(b)
        if before == .headerName && b == UInt8(ascii: ":") && header == .other, let k = recorder!.matchAccumulatedName() {
            header = .recorded
            recordedIndex = k
            recorder!.begin(k)
            recorded = true
        }
        if keptValue && (before == .headerValueStart || before == .headerValue) && (b == 13 || b == 10) { recorder!.end() }
        return outcome
    }

    /// The response is content-encoded (the recorder kept its header): keep its body's first
    /// bytes for the caller to decode.
    mutating func keepBodyIfEncoded() {
        if recorder!.hasValue(of: encodingIndex) { bodyLimit = encodedBodyLimit }
    }
}
