extension HTTPResponseParser {
    /// Prepares for the response to a new request. `bodiless` is true for HEAD requests;
    /// `bodyScanner` looks for a substring in the body.
    /// `recorder` keeps the headers it names and (`bodyLimit` > 0) the body's first bytes.
    public mutating func reset(bodiless: Bool = false, bodyScanner: SubstringScanner? = nil, recorder: HeaderRecorder? = nil,
                               bodyLimit: Int = 0, encodedBodyLimit: Int = 0, encodingIndex: Int = -1) {
        reset(bodiless: bodiless, bodyScanner: bodyScanner, unretainedRecorder: recorder.map { .passUnretained($0) },
              bodyLimit: bodyLimit, encodedBodyLimit: encodedBodyLimit, encodingIndex: encodingIndex)
    }

    /// `reset` for the request path: the recorder is passed unretained (a strong argument cost
    /// a retain and a release per request), and the caller keeps it alive while the response
    /// is parsed.
    public mutating func reset(bodiless: Bool, bodyScanner: SubstringScanner? = nil, unretainedRecorder: Unmanaged<HeaderRecorder>?,
                               bodyLimit: Int = 0, encodedBodyLimit: Int = 0, encodingIndex: Int = -1) {
        let dirty = recorded
        // Field by field, not `self = HTTPResponseParser(...)`: the whole-value assignment went
        // through an outlined copy of every field (about 130 instructions per request; callgrind).
        // `ResponseParserTests.aResetParserEqualsANewOneInEveryField` holds every field to a new parser's.
        state = .statusH
        status = 0
        minorVersion = 1
        headerBytes = 0
        contentLength = -1
        chunked = false
        closeToken = false
        keepAliveToken = false
        remaining = 0
        header = .other
        nameLength = 0
        chunkLineBytes = 0
        candidates = 0
        tokenMatch = (0, 0, 0)
        recorded = false
        recordedIndex = 0
        self.bodiless = bodiless
        if bodyScanner != nil || self.bodyScanner != nil { self.bodyScanner = bodyScanner }
        if let unretainedRecorder {
            recorderRef = unretainedRecorder
            unretainedRecorder._withUnsafeGuaranteedRef { recorder in
                recordMask = recorder.lengthMask
                if dirty { recorder.reset() }
            }
            self.bodyLimit = bodyLimit
            self.encodedBodyLimit = encodedBodyLimit
            self.encodingIndex = encodingIndex
        } else {
            recorderRef = nil
            recordMask = 0
            self.bodyLimit = 0
            self.encodedBodyLimit = 0
            self.encodingIndex = -1
        }
    }
}
