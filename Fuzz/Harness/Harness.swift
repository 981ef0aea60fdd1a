// stampede-fuzz: libFuzzer harnesses for the parsers that read bytes from the network or from
// other processes. One binary; the harness is picked with STAMPEDE_FUZZ=http-response |
// http-request | websocket | histogram | bus-message | capture-regex.
//
// Built by `make fuzz` with -sanitize=fuzzer,address and -DFUZZING (libFuzzer provides main).
// Built normally, it is a replayer: `stampede-fuzz FILE...` runs the harness on each file, to
// reproduce a crash libFuzzer found.
import Foundation
import HTTP1
import Histogram
import Messaging
import Patterns
import Sessions
import StampedeModel
import StampedeWire
import WebSocket

let harnessName = ProcessInfo.processInfo.environment["STAMPEDE_FUZZ"] ?? "http-response"

func runHarness(_ bytes: [UInt8]) {
    switch harnessName {
    case "http-response":
        // The first byte chooses where the input is split, as reads split it on a socket.
        guard let first = bytes.first else { return }
        let body = Array(bytes.dropFirst())
        let cut = body.isEmpty ? 0 : Int(first) % (body.count + 1)
        var parser = HTTPResponseParser(maxHeaderBytes: 4096)
        parser.reset(bodiless: first & 0x80 != 0)
        for part in [body[..<cut], body[cut...]] {
            let (used, outcome) = part.withUnsafeBytes { parser.parse($0) }
            precondition(used <= part.count)
            if outcome != .needMore { return }
        }
        _ = parser.parseEOF()
    case "http-request":
        var parser = HTTPRequestParser(maxHeaderBytes: 4096, maxBodyBytes: 4096)
        var buffer = bytes
        while let request = try? parser.parse(&buffer) { _ = (request.path, request.query, request.keepAlive) }
    case "websocket":
        var parser = WebSocketParser(maxFrameBytes: 4096, maxMessageBytes: 8192)
        var buffer = bytes
        while (try? parser.next(&buffer)) != nil {}
    case "histogram":
        if let h = try? HDRHistogram(encoded: bytes) {
            _ = (h.totalCount, h.max, h.values(atPercentiles: [50, 99]), h.encodeCompressed())
        }
        _ = try? HistogramLogReader.parse(String(decoding: bytes, as: UTF8.self))
    case "bus-message":
        // The interval reader gives nothing Foundation's decoder would not: whatever it reads,
        // the decoder reads the same.
        if case .interval(let read) = IntervalReading.read(bytes) {
            precondition(read == (try? JSONDecoder().decode(IntervalMessage.self, from: Data(bytes))), "IntervalReading and JSONDecoder differ")
        }
        // Whatever decodes has passed its range checks: adding it twice must not trap.
        let record = BusRecord(topic: .metrics, partition: 0, offset: 0, key: nil, payload: bytes)
        if case .success(let message) = BusMessage.decode(record) {
            switch message {
            case .interval(let m): _ = try? m.counters.adding(m.counters); _ = try? SparseCounts(base64: m.histogram)
            case .final(let m): _ = try? m.counters.adding(m.counters)
            default: _ = message.encoded()
            }
        }
    case "capture-regex":
        // The first byte splits the input into a pattern and a body to search.
        guard let first = bytes.first else { return }
        let rest = Array(bytes.dropFirst())
        let cut = rest.isEmpty ? 0 : Int(first) % (rest.count + 1)
        if let re = try? LinearRegex(String(decoding: rest[..<cut], as: UTF8.self)) {
            let body = Array(rest[cut...])
            if let groups = body.withUnsafeBytes({ re.firstMatch(in: $0) }) {
                for range in groups { if let range { precondition(range.lowerBound >= 0 && range.upperBound <= body.count) } }
            }
        }
    default:
        fatalError("STAMPEDE_FUZZ must be http-response, http-request, websocket, histogram, bus-message or capture-regex")
    }
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// SwiftPM links an executable's entry point under this name; handing control to libFuzzer's
/// driver from here keeps libFuzzer's own `main` out of the link.
@_cdecl("stampede_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        runHarness(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    }
}
#else
@main
enum Replay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("stampede-fuzz: cannot read \(path)\n".utf8))
                exit(2)
            }
            runHarness([UInt8](data))
            print("ok \(path)")
        }
    }
}
#endif
