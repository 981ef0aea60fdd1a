import HTTP1
import Sessions
import StampedeModel

/// One request of a test as workers send it: the whole message encoded once when nothing in it
/// varies, or pieces (literal bytes and template fields, merged and parsed before the run) that a
/// worker renders per request into the connection's buffer. Shared read-only by all workers.
final class RequestProgram: @unchecked Sendable {
    /// Where this request's results are counted (requests may share a name).
    let nameIndex: Int
    /// Which of the workload's origins it goes to.
    let origin: Int
    /// HEAD: the response has no body whatever its headers say.
    let bodiless: Bool
    /// May be resent after a stale keep-alive close.
    let idempotent: Bool
    let expectStatus: [StatusPattern]
    /// `expect_body`: a scanner for fixed text, or the template rendered per request with the
    /// request's own values (into the connection's scanner).
    let expectBody: SubstringScanner?
    let expectTemplate: RenderPlan?
    var checksBody: Bool { expectBody != nil || expectTemplate != nil }
    /// Its responses are checked (status or body).
    let checks: Bool
    /// The whole request, when nothing in it is a template.
    let fixed: UnsafeRawBufferPointer?
    /// The method, typed (redirects decide by it), and where the request target lies in the
    /// request's bytes: it starts after the method and a space; in fixed bytes it ends at
    /// `fixedTargetEnd`, in rendered ones where `render` says.
    let method: HTTPMethod
    let targetStart: Int
    let fixedTargetEnd: Int
    /// Otherwise the request line up to the end of its target, the rest of the head (the whole
    /// message when the body is fixed), and a templated body whose Content-Length is written
    /// per request.
    let requestLine: RenderPlan
    let head: RenderPlan
    let body: RenderPlan?
    let needsSequence: Bool
    /// Values this request's response gives the session's later requests, the variable slot
    /// each fills, and whether any reads the body (which is then kept, up to `capture_bytes`).
    let captures: [CaptureRule]
    let captureSlots: [Int]
    let capturesBody: Bool
    /// The pause after the response before the session's next request.
    let thinkTime: ThinkTime?
    /// The request has a Cookie header of its own (the jar's cookies then join it: one header).
    let hasCookieHeader: Bool
    /// Captures or thinks: the response needs more than counting.
    var isSessionStep: Bool { !captures.isEmpty || thinkTime != nil }

    init(_ request: CompiledRequest, nameIndex: Int, origin: Int) throws {
        let spec = request.spec
        self.nameIndex = nameIndex
        self.origin = origin
        bodiless = spec.method == "HEAD"
        idempotent = spec.isIdempotent
        expectStatus = spec.expectStatus
        if let expect = request.expect, !expect.isLiteral {
            expectBody = nil
            expectTemplate = RenderPlan(expect.parts)
        } else {
            expectBody = spec.expectBody.map { SubstringScanner(Array($0.utf8)) }
            expectTemplate = nil
        }
        captures = spec.captures
        captureSlots = request.captureSlots
        capturesBody = spec.captures.contains { $0.source.readsBody }
        thinkTime = spec.thinkTime
        checks = !spec.expectStatus.isEmpty || spec.expectBody != nil
        hasCookieHeader = spec.headers.contains { $0.0.lowercased() == "cookie" }
        method = HTTPMethod(spec.method)
        targetStart = spec.method.utf8.count + 1
        let literal = request.path.isLiteral && request.body.isLiteral && request.headers.allSatisfy { $0.1.isLiteral }
        if literal {
            let bytes = try HTTPRequestEncoder.encode(method: spec.method, url: request.origin, headers: spec.headers, body: spec.body)
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 16)
            bytes.withUnsafeBytes { copy.copyMemory(from: $0) }
            fixed = UnsafeRawBufferPointer(copy)
            // Found once here: the request line's second space ends its target.
            fixedTargetEnd = bytes[targetStart...].firstIndex(of: 32) ?? targetStart
            requestLine = RenderPlan([])
            head = RenderPlan([])
            body = nil
            needsSequence = request.expect?.needsSequence ?? false
            return
        }
        fixed = nil
        fixedTargetEnd = targetStart
        requestLine = RenderPlan([.literal(Array("\(spec.method) ".utf8))] + request.path.parts)
        var parts: [Template.Part] = [.literal(Array(" HTTP/1.1\r\n".utf8))]
        parts.append(.literal(Array(HTTPRequestEncoder.defaultHeaders(given: spec.headers.map(\.0),
                                                                      hostHeader: request.origin.hostHeader).utf8)))
        for (name, value) in request.headers where name.lowercased() != "content-length" {
            parts.append(.literal(Array("\(name): ".utf8)))
            parts += value.parts
            parts.append(.literal([13, 10]))
        }
        if request.body.isLiteral {
            let bytes = request.body.parts.reduce(into: [UInt8]()) { if case .literal(let b) = $1 { $0 += b } }
            if HTTPRequestEncoder.needsContentLength(method: spec.method, bodyCount: bytes.count) {
                parts.append(.literal(Array("Content-Length: \(bytes.count)\r\n".utf8)))
            }
            parts.append(.literal([13, 10] + bytes))
            body = nil
        } else {
            body = RenderPlan(request.body.parts)
        }
        head = RenderPlan(parts)
        needsSequence = request.path.needsSequence || request.body.needsSequence || request.headers.contains { $0.1.needsSequence }
            || (request.expect?.needsSequence ?? false)
    }

    deinit { fixed?.deallocate() }
}

/// What a template field renders to for one request. Holds no references of its own: made per
/// templated request, retaining the workload's arrays and the session's slots cost about 110
/// instructions a request (callgrind).
struct RenderValues {
    var sequence: Int
    /// The data row (the request's sequence number; with sessions, the session's number).
    var row: Int
    var session: Int
    var connection: Int
    /// The driver's and scenario's names and the data rows are read from it where a template
    /// names them (the worker holds it for the run).
    unowned(unsafe) let workload: Workload
    /// The session's captured values, by slot: the connection's, for the duration of the render.
    let variables: UnsafeBufferPointer<ByteStore>
}

extension RequestProgram {
    /// Writes the request into `out` (cleared first); `scratch` holds a templated body while its
    /// length is measured.
    /// Returns where the request target ends in `out`.
    @discardableResult
    func render(into out: inout RenderBuffer, scratch: inout RenderBuffer, values: RenderValues, random: inout SplitMix64) -> Int {
        out.removeAll()
        requestLine.render(into: &out, values: values, random: &random)
        let targetEnd = out.count
        head.render(into: &out, values: values, random: &random)
        guard let body else { return targetEnd }
        scratch.removeAll()
        body.render(into: &scratch, values: values, random: &random)
        out.append(Self.contentLengthPrefix)
        out.append(decimal: Int64(scratch.count))
        out.append(byte: 13); out.append(byte: 10); out.append(byte: 13); out.append(byte: 10)
        out.append(scratch.bytes)
        return targetEnd
    }

    private static let contentLengthPrefix: [UInt8] = Array("Content-Length: ".utf8)
}

/// Picks the next request of a random mix in O(1) whatever the number of requests: Vose's alias
/// method (one uniform index, one biased coin).
struct WeightedPicker: Sendable {
    private let probability: [Double]
    private let alias: [Int]

    init(weights: [Double]) {
        let n = weights.count
        let total = weights.reduce(0, +)
        var scaled = weights.map { $0 * Double(n) / total }
        var probability = [Double](repeating: 1, count: n)
        var alias = Array(0..<n)
        var small = scaled.indices.filter { scaled[$0] < 1 }
        var large = scaled.indices.filter { scaled[$0] >= 1 }
        while let s = small.popLast(), let l = large.popLast() {
            probability[s] = scaled[s]
            alias[s] = l
            scaled[l] -= 1 - scaled[s]
            if scaled[l] < 1 { small.append(l) } else { large.append(l) }
        }
        self.probability = probability
        self.alias = alias
    }

    @inline(__always)
    func pick(_ random: inout SplitMix64) -> Int {
        let n = probability.count
        if n == 1 { return 0 }
        let i = Int(random.next(below: UInt64(n)))
        return random.nextUnit() < probability[i] ? i : alias[i]
    }
}

/// What the per-request path reads of a program, as plain values. A worker keeps these in a
/// buffer of its own: reading a field of `RequestProgram` (a class, in an array of the shared
/// workload) retained and released it, about 40 instructions a time, twice a request
/// (callgrind); these cost a load each.
struct ProgramFacts {
    /// The whole message, when it is fixed and nothing about its response is rendered per
    /// request (no templated `expect_body`): the plain request path sends these bytes.
    let plainBytes: UnsafeRawBufferPointer?
    let origin: Int
    let nameIndex: Int
    let idempotent: Bool
    let bodiless: Bool
    /// `expect_status` or `expect_body` (fixed or templated): the response is checked.
    let checks: Bool
    /// A parser reset needs the program: a body scanner, a templated `expect_body`, a
    /// captured body or a check whose failing body is kept.
    let parserNeedsProgram: Bool
    let isSessionStep: Bool
    /// Where the target lies in `plainBytes` (or the program's fixed bytes).
    let fixedTarget: Range<Int>
    let thinkTime: ThinkTime?
    /// The request has its own Cookie header (the jar's cookies are merged into it).
    let hasCookieHeader: Bool
    /// A capture reads the body: its first `capture_bytes` are kept.
    let capturesBody: Bool
    /// `expect_body` (fixed or templated): the body is checked.
    let checksBody: Bool
    /// The statuses `expect_status` accepts, a bit per code (none given: all zero).
    let expectedStatuses: SIMD16<UInt64>
    let hasExpectStatus: Bool

    init(_ program: RequestProgram) {
        plainBytes = program.expectTemplate == nil ? program.fixed : nil
        origin = program.origin
        nameIndex = program.nameIndex
        idempotent = program.idempotent
        bodiless = program.bodiless
        checks = !program.expectStatus.isEmpty || program.checksBody
        parserNeedsProgram = program.checksBody || program.capturesBody || program.checks
        isSessionStep = program.isSessionStep
        fixedTarget = program.targetStart..<program.fixedTargetEnd
        thinkTime = program.thinkTime
        hasCookieHeader = program.hasCookieHeader
        capturesBody = program.capturesBody
        checksBody = program.checksBody
        hasExpectStatus = !program.expectStatus.isEmpty
        var bits = SIMD16<UInt64>()
        for code in 100...999 where program.expectStatus.contains(where: { $0.matches(code) }) { bits[code >> 6] |= 1 << UInt64(code & 63) }
        expectedStatuses = bits
    }

    /// Whether `expect_status` accepts `status` (a response's status has three digits).
    @inline(__always)
    func expects(_ status: Int) -> Bool {
        guard status >= 0 && status < 1024 else { return false }
        return expectedStatuses[status >> 6] >> UInt64(status & 63) & 1 == 1
    }
}
