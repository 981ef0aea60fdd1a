import Sessions
import Foundation
import HTTP1
import StampedeModel
import Synchronization

/// What a run sends, prepared once and shared read-only by its workers: the requests as
/// programs, the names results are counted under, the random mix, the data rows and the
/// driver's sequence numbers.
final class Workload: Sendable {
    let programs: [RequestProgram]
    /// The distinct origins (scheme, host, port) the requests go to, the first request's first.
    let origins: [TargetURL]
    /// Distinct request names, in order of first appearance.
    let names: [String]
    /// Results are counted per name too (the list form, or when redirect hops are followed).
    let tracksNames: Bool
    /// `follow_redirects`: hops followed per request, and the name each name's hops count under
    /// (`NAME redirect`, indexed by the request's name index).
    let followRedirects: Int
    let redirectNames: [Int]
    /// `order: sequence`: each pass through the list is a session (counted, timed).
    let sessions: Bool
    /// Neither sessions nor redirects: a response is counted and nothing follows from it (the
    /// request path takes its shortest way). Think time may still apply (`--think-ms`).
    let plainResponses: Bool
    let order: RequestOrder
    let picker: WeightedPicker
    let seed: UInt64
    let shard: Shard
    let cookies: CookieMode
    /// Captured variables per session (slots), and where each goes unfiltered: into a URL
    /// (printable ASCII without spaces) or a header (no line breaks).
    let variableCount: Int
    let variableInURL: [Bool]
    let variableInHeader: [Bool]
    /// Response headers a connection keeps: Set-Cookie (with cookies), captured headers, and
    /// Content-Encoding (to decode a captured body).
    let recordedHeaders: [String]
    /// How much of a body captures read.
    let captureBytes: Int
    /// Where Content-Encoding is among `recordedHeaders` (-1: not kept).
    let contentEncodingIndex: Int
    let driver: [UInt8]
    /// `{{scenario}}`, and where this scenario's numbers lie among the test's: `{{seq}}` and
    /// `{{session}}` are the scenario's own numbers (which deal its data rows) interleaved with
    /// the other scenarios', so they stay unique test-wide.
    let scenario: [UInt8]
    let scenarioPlace: (index: Int, count: Int)
    let rows: [[[UInt8]]]
    /// This driver's requests that took a sequence number so far (all threads), and its sessions.
    private let sequenceCount = Atomic<Int>(0)
    private let sessionCount = Atomic<Int>(0)

    /// - Parameter compiled: the spec's request list as `LoadSpec.validate` compiled it.
    init(_ spec: LoadSpec, compiled: [CompiledRequest]) throws {
        var names: [String] = []
        var origins: [TargetURL] = []
        var programs: [RequestProgram] = []
        for request in compiled {
            let name = request.spec.displayName
            let index = names.firstIndex(of: name) ?? { names.append(name); return names.count - 1 }()
            let origin = origins.firstIndex { $0.sameOrigin(request.origin) } ?? { origins.append(request.origin); return origins.count - 1 }()
            programs.append(try RequestProgram(request, nameIndex: index, origin: origin))
        }
        self.programs = programs
        let slots = compiled.flatMap(\.captureSlots)
        variableCount = (slots.max() ?? -1) + 1
        var inURL = [Bool](repeating: false, count: variableCount), inHeader = inURL
        for request in compiled {
            for v in request.path.rawVariables { inURL[v] = true }
            for (_, t) in request.headers { for v in t.rawVariables { inHeader[v] = true } }
        }
        variableInURL = inURL
        variableInHeader = inHeader
        followRedirects = spec.followRedirects
        var redirectNames: [Int] = []
        if spec.followRedirects > 0 {
            for k in names.indices { names.append(names[k] + LoadReport.redirectSuffix); redirectNames.append(names.count - 1) }
        }
        self.redirectNames = redirectNames
        sessions = spec.order == .sequence
        plainResponses = !sessions && spec.followRedirects == 0
        var recorded: [String] = spec.cookies == .off ? [] : ["set-cookie"]
        if spec.followRedirects > 0 { recorded.append("location") }
        for request in compiled {
            for rule in request.spec.captures { if case .header(let name) = rule.source, !recorded.contains(name) { recorded.append(name) } }
        }
        // A captured or checked body is read decoded when it comes gzip- or deflate-encoded.
        // Checks keep the first failing response's first bytes, and read an encoded body decoded.
        if programs.contains(where: { $0.capturesBody || $0.checks }) && !recorded.contains("content-encoding") {
            recorded.append("content-encoding")
        }
        contentEncodingIndex = recorded.firstIndex(of: "content-encoding") ?? -1
        recordedHeaders = recorded
        captureBytes = spec.captureBytes
        self.origins = origins
        self.names = names
        tracksNames = spec.listForm || spec.followRedirects > 0
        order = spec.order
        cookies = spec.cookies
        picker = WeightedPicker(weights: spec.requests.map(\.weight))
        seed = spec.seed ?? UInt64.random(in: 0...UInt64.max)
        shard = spec.shard
        driver = Array(spec.driverName.utf8)
        scenario = Array(spec.scenarioName.utf8)
        scenarioPlace = (spec.scenarioIndex, Swift.max(1, spec.scenarioCount))
        rows = spec.data?.rows.map { $0.map { Array($0.utf8) } } ?? []
    }

    /// The next test-wide sequence number for this driver (`{{seq}}`, and which data row).
    @inline(__always)
    func nextSequence() -> Int {
        shard.sequence(sequenceCount.add(1, ordering: .relaxed).oldValue)
    }

    /// A scenario's own number (a sequence or session number) as a test-wide one.
    @inline(__always)
    func testWide(_ n: Int) -> Int { scenarioPlace.count == 1 ? n : n &* scenarioPlace.count &+ scenarioPlace.index }

    /// The next test-wide session number for this driver (`{{session}}`, and the session's data row).
    func nextSession() -> Int {
        shard.sequence(sessionCount.add(1, ordering: .relaxed).oldValue)
    }

    /// A worker's generator: the test's seed, this driver and this thread (so no two draw alike).
    func random(thread: Int) -> SplitMix64 {
        var mixer = SplitMix64(seed: seed ^ (UInt64(shard.index) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(thread) &* 0xD1B5_4A32_D192_ED03))
        return SplitMix64(seed: mixer.next())
    }
}
