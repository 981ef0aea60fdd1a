import HTTP1
import Sessions
import StampedeModel

/// Which request a connection sends next, its bytes, and how its outcome is counted (in total
/// and, for a list of requests, under its name).
extension Worker {
    /// Picks the connection's next request, and makes the socket to its origin the active one
    /// (parking the other; a test with one origin never switches).
    @inline(__always)
    func chooseRequest(_ i: Int) {
        let index: Int
        if workload.order == .sequence {
            index = conns[i].journey
            // A new pass through the list is a new session: its own cookies only.
            if index == 0 && workload.cookies == .session { conns[i].jar.removeAll() }
            conns[i].journey = index + 1 == workload.programs.count ? 0 : index + 1
        } else {
            index = workload.picker.pick(&random)
        }
        conns[i].next = index
        let origin = facts[index].origin
        if origin != conns[i].origin { switchOrigin(i, to: origin) }
    }

    /// Makes the chosen request's bytes ready in `outgoing`: the encoded message, the
    /// connection's buffer with the templates rendered, or a redirect's next hop (rendered when
    /// the 3xx arrived). Returns whether the request is idempotent (read here, where the program
    /// is at hand: one look-up per request).
    @inline(__always)
    func prepareRequest(_ i: Int) -> Bool {
        let k = conns[i].next ?? conns[i].current
        conns[i].current = k
        conns[i].next = nil
        var idempotent = facts[k].idempotent
        if conns[i].hopPending {
            conns[i].hopPending = false
            conns[i].outgoing = conns[i].render.bytes
            conns[i].target = conns[i].hopTarget
            idempotent = conns[i].hopMethod.isIdempotent
        } else if let plain = facts[k].plainBytes {
            conns[i].outgoing = plain
            conns[i].target = facts[k].fixedTarget
        } else {
            let program = workload.programs[k]
            let sequence = program.needsSequence ? workload.nextSequence() : 0
            let (testWide, row, session) = (workload.testWide(sequence), workload.sessions ? conns[i].sessionNumber : sequence,
                                            workload.testWide(conns[i].sessionNumber))
            // The values borrow the connection's slots while the request renders into a buffer
            // taken out of the connection (the connection is not touched meanwhile).
            func values(_ slots: UnsafeBufferPointer<ByteStore>) -> RenderValues {
                RenderValues(sequence: testWide, row: row, session: session, connection: connectionOffset + i, workload: workload, variables: slots)
            }
            if let fixed = program.fixed {
                conns[i].outgoing = fixed
                conns[i].target = facts[k].fixedTarget
            } else {
                var out = RenderBuffer()
                swap(&out, &conns[i].render)
                let targetEnd = conns[i].variables.withUnsafeBufferPointer { slots in
                    program.render(into: &out, scratch: &buffers.scratch, values: values(slots), random: &random)
                }
                swap(&out, &conns[i].render)
                conns[i].outgoing = conns[i].render.bytes
                conns[i].target = program.targetStart..<targetEnd
            }
            if let expect = program.expectTemplate {
                buffers.expect.removeAll()
                conns[i].variables.withUnsafeBufferPointer { slots in expect.render(into: &buffers.expect, values: values(slots), random: &random) }
                useExpect(i)
            }
        }
        if !conns[i].jar.isEmpty { addCookies(i, hasCookieHeader: facts[k].hasCookieHeader) }
        conns[i].sessionStep = facts[k].isSessionStep
        resetParser(i, program: k)
        if workload.tracksNames { figures.second.byName[position: currentNameIndex(i)].counters.requests += 1 }
        return idempotent
    }

    /// The request's `expect_body`, rendered into `buffers.expect`, becomes the connection's
    /// scanner (its storage reused: the parser's copy of the last one is dropped first, so
    /// nothing is copied).
    func useExpect(_ i: Int) {
        conns[i].parser.reset()
        if conns[i].expectScanner == nil { conns[i].expectScanner = SubstringScanner([0]) }
        conns[i].expectScanner!.reset(needle: buffers.expect.bytes)
    }

    /// Ready to read the response to the connection's current request (`workload.programs[k]`).
    @inline(__always)
    func resetParser(_ i: Int, program k: Int) {
        guard facts[k].parserNeedsProgram else {
            conns[i].parser.reset(bodiless: facts[k].bodiless, unretainedRecorder: conns[i].recorderRef,
                                  encodingIndex: workload.contentEncodingIndex)
            return
        }
        // The program (a class: reading it retains it) only for a body check's scanner.
        let scanner = facts[k].checksBody ? (workload.programs[k].expectTemplate == nil ? workload.programs[k].expectBody : conns[i].expectScanner) : nil
        conns[i].parser.reset(bodiless: facts[k].bodiless, bodyScanner: scanner,
                              unretainedRecorder: conns[i].recorderRef,
                              bodyLimit: facts[k].capturesBody ? workload.captureBytes
                                  : facts[k].checks && figures.firstCheckFailure == nil ? Self.checkFailureBodyBytes : 0,
                              encodedBodyLimit: facts[k].checksBody ? workload.captureBytes : 0, encodingIndex: workload.contentEncodingIndex)
    }

    /// Counts a whole response: its status, its checks and its latency. A 3xx that is followed
    /// is not checked (the hop's response is); one past the last hop allowed counts in
    /// `errors.redirects` instead of its checks. Returns what, if anything, fails its session.
    @inline(__always)
    func recordResponse(_ i: Int, status: Int, latencyUs: Int64, redirect: RedirectOutcome) -> SessionFailure? {
        let k = conns[i].current
        var failure: SessionFailure?
        var check = false
        var judgeByClass = false
        switch redirect {
        case .follow: break
        case .overLimit: failure = .redirects
        case .none where !facts[k].checks:
            judgeByClass = true
            if status >= 500 { failure = .status5xx } else if status >= 400 { failure = .status4xx }
        case .none:
            // The facts answer a status check; the program is read only for a body check or a
            // failure (reading it, a class, retained and released it per response).
            let bodyFailed = facts[k].checksBody && !bodyMatches(i, workload.programs[k])
            let statusFailed = facts[k].hasExpectStatus && !facts[k].expects(status)
            check = bodyFailed || statusFailed
            if check { checkFailed(i, workload.programs[k], status: status, onStatus: statusFailed, onBody: bodyFailed) }
            // Given expect_status, the checks say which statuses are errors; otherwise 4xx and 5xx are.
            judgeByClass = !facts[k].hasExpectStatus
            if check { failure = .check } else if judgeByClass && status >= 500 { failure = .status5xx } else if judgeByClass && status >= 400 { failure = .status4xx }
        }
        let overLimit: Bool = if case .overLimit = redirect { true } else { false }
        Self.count(status: status, check: check, judgeByClass: judgeByClass, overLimit: overLimit, into: &figures.second.counters)
        if workload.tracksNames {
            let n = currentNameIndex(i)
            Self.count(status: status, check: check, judgeByClass: judgeByClass, overLimit: overLimit, into: &figures.second.byName[position: n].counters)
            figures.second.byName[position: n].latency.record(latencyUs)
        }
        return failure
    }

    @inline(__always)
    private static func count(status: Int, check: Bool, judgeByClass: Bool, overLimit: Bool, into c: inout LoadCounters) {
        c.responses += 1
        c.statusCodes.record(status)
        if check { c.errors.check += 1 }
        if overLimit { c.errors.redirects += 1 }
        if judgeByClass {
            if status >= 500 { c.errors.status_5xx += 1 } else if status >= 400 { c.errors.status_4xx += 1 }
        }
    }

    /// A response failed its checks: why, counted by kind (in total and under its name), and the
    /// first such response kept in words (its status and its body's first bytes).
    func checkFailed(_ i: Int, _ program: RequestProgram, status: Int, onStatus: Bool, onBody: Bool) {
        func count(_ e: inout ErrorCounts) {
            if onStatus { e.check_status += 1 }
            if onBody { e.check_body += 1 }
        }
        count(&figures.second.counters.errors)
        if workload.tracksNames { count(&figures.second.byName[position: currentNameIndex(i)].counters.errors) }
        guard figures.firstCheckFailure == nil else { return }
        var why: [String] = []
        if onStatus { why.append("status \(status) outside expect_status \(program.expectStatus.map(\.description).joined(separator: ","))") }
        if onBody { why.append("body without expect_body") }
        var text = "\(workload.names[currentNameIndex(i)]): " + why.joined(separator: ", ")
        if let body = conns[i].recorder?.body, !body.isEmpty {
            let shown = String(decoding: body.prefix(Self.checkFailureBodyBytes), as: UTF8.self)
            text += "; body: \(shown)" + (body.count > Self.checkFailureBodyBytes ? "..." : "")
        }
        figures.firstCheckFailure = text
    }

    /// Whether the body held `expect_body` (decoded first when it came encoded).
    func bodyMatches(_ i: Int, _ program: RequestProgram) -> Bool {
        encodedBodyMatches(i, program) ?? conns[i].parser.bodyMatched
    }

    /// How much of the first failing response's body is kept for `first_check_failure`.
    static let checkFailureBodyBytes = 200

    /// `expect_body` over a gzip- or deflate-encoded body: whether its first `capture_bytes`,
    /// decoded, contain the text; nil when the body was not encoded (the parser's scan holds).
    func encodedBodyMatches(_ i: Int, _ program: RequestProgram) -> Bool? {
        guard let scanner = program.expectTemplate == nil ? program.expectBody : conns[i].expectScanner, let recorder = conns[i].recorder,
              isContentEncoded(recorder) else { return nil }
        var decodedScanner = scanner
        decodedScanner.reset()
        if let decoded = Gunzip.decode(recorder.body, limit: workload.captureBytes) {
            decoded.withUnsafeBytes { decodedScanner.scan($0) }
        }
        if !program.capturesBody { recorder.releaseBody() }
        return decodedScanner.found
    }

    /// Counts a failure of the request in flight under its name (the total counts it in `fail`).
    func recordFailureByName(_ i: Int, _ kind: Failure) {
        guard workload.tracksNames else { return }
        kind.count(into: &figures.second.byName[position: currentNameIndex(i)].counters.errors)
    }
}
