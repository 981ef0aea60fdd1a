// histogram-bench: micro-benchmarks of the Histogram module, release build, run by `make perf`.
//
// Each figure is the median of several rounds. The peer is hdrhistogram-swift (the Swift port of
// HdrHistogram), measured in the same run by Tests/Oracle's `hdr-oracle bench`, so the ratio is
// like for like on this machine today.
import Dispatch
import Foundation
import Histogram

let rounds = 7
let recordsPerRound = 20_000_000

/// Latency-like values, precomputed so the benchmark measures recording, not value generation.
let values: [Int64] = {
    var x: UInt64 = 0x9E37_79B9_7F4A_7C15
    return (0..<4096).map { _ in
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        return Int64(50 + x % 50_000)
    }
}()

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }

/// Median over `rounds` of nanoseconds per operation.
func measure(_ ops: Int, _ body: () -> Void) -> Double {
    median((0..<rounds).map { _ in
        let start = now()
        body()
        return Double(now() - start) / Double(ops)
    })
}

@inline(never) func blackHole<T>(_ x: T) { withExtendedLifetime(x) {} }

var results: [(String, Double, String)] = []

// Bodies live in functions: top-level variables are globals, whose accessors would be measured too.

// 1. Plain histogram, one thread (the per-reactor-thread case).
func benchPlainRecord() -> Double {
    // Timed inline rather than through `measure`: a closure capturing the mutable histogram
    // would add exclusivity bookkeeping to every record.
    let values = values
    var rounds: [Double] = []
    for _ in 0..<rounds.capacity + 7 where rounds.count < 7 {
        var plain = HDRHistogram()
        let start = now()
        for i in 0..<recordsPerRound { plain.record(values[i & 4095]) }
        rounds.append(Double(now() - start) / Double(recordsPerRound))
        blackHole(plain.totalCount)
    }
    return median(rounds)
}
results.append(("HDRHistogram.record, 1 thread", benchPlainRecord(), "ns/value"))

// 2. Atomic histogram, one thread, then two threads on one histogram.
func benchAtomicRecord(threads: Int) -> Double {
    let atomic = AtomicHDRHistogram()
    let values = values
    return measure(recordsPerRound) {
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in 0..<(recordsPerRound / threads) { atomic.record(values[(i + t * 2048) & 4095]) }
        }
    }
}
results.append(("AtomicHDRHistogram.record, 1 thread", benchAtomicRecord(threads: 1), "ns/value"))
results.append(("AtomicHDRHistogram.record, 2 threads", benchAtomicRecord(threads: 2), "ns/value (wall, both threads)"))

// 3. Interval recorder: record, and the per-interval swap while idle.
func benchRecorder() -> (record: Double, swap: Double) {
    let recorder = IntervalRecorder()
    let values = values
    let record = measure(recordsPerRound) {
        for i in 0..<recordsPerRound { recorder.record(values[i & 4095]) }
    }
    let swap = measure(200) {
        for _ in 0..<200 { blackHole(recorder.intervalHistogram()) }
    }
    return (record, swap)
}
let recorderResults = benchRecorder()
results.append(("IntervalRecorder.record, 1 thread", recorderResults.record, "ns/value"))
results.append(("IntervalRecorder.intervalHistogram", recorderResults.swap, "ns/swap"))

// 4. Merge and encode a histogram of 1M latency-like values (a busy driver's second).
var big = HDRHistogram()
var x: UInt64 = 42
for _ in 0..<1_000_000 {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17
    big.record(Int64(Foundation.exp(Double(x % 1_000_000) / 1_000_000 * 16)))
}
var sink = HDRHistogram()
results.append(("HDRHistogram.add (merge)", measure(1_000) {
    for _ in 0..<1_000 { try! sink.add(big) }
}, "ns/merge"))
var encodedLength = 0
results.append(("HDRHistogram.encodeBase64", measure(200) {
    for _ in 0..<200 { encodedLength = big.encodeBase64().count }
}, "ns/encode (\(encodedLength) chars)"))
let text = big.encodeBase64()
results.append(("HDRHistogram(base64:) decode", measure(200) {
    for _ in 0..<200 { blackHole(try! HDRHistogram(base64: text)) }
}, "ns/decode"))
results.append(("SparseCounts(base64:) decode", measure(200) {
    for _ in 0..<200 { blackHole(try! SparseCounts(base64: text)) }
}, "ns/decode"))
let sparseBig = try! SparseCounts(base64: text)
results.append(("HDRHistogram.add(SparseCounts)", measure(1_000) {
    for _ in 0..<1_000 { try! sink.add(sparseBig) }
}, "ns/merge (\(sparseBig.indexes.count) non-zero counters)"))

// 5. The orchestrator's second at 100 drivers: each driver's interval histogram (1,000 values
// here: a driver at 1,000 req/s) decoded once and added to three totals (the driver's share,
// the second, the whole test), as TestRun does.
func benchHundredDrivers() -> (perSecond: Double, perHistogram: Double) {
    let encoded: [String] = (0..<100).map { d in
        var h = HDRHistogram()
        var x = UInt64(d + 1) &* 0x9E37_79B9_7F4A_7C15
        for _ in 0..<1_000 {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            h.record(Int64(Foundation.exp(Double(x % 1_000_000) / 1_000_000 * 9)) + 80)
        }
        return h.encodeBase64()
    }
    var shares = Array(repeating: HDRHistogram(), count: 100)
    var second = HDRHistogram(), whole = HDRHistogram()
    var decodeOnly: [Double] = []
    let perSecond = measure(1) {
        second.reset()
        for d in 0..<100 {
            let start = now()
            let sparse = try! SparseCounts(base64: encoded[d])
            decodeOnly.append(Double(now() - start))
            try! shares[d].add(sparse)
            try! second.add(sparse)
            try! whole.add(sparse)
        }
    }
    blackHole((shares, whole))
    return (perSecond, median(decodeOnly))
}
let hundred = benchHundredDrivers()
results.append(("100 drivers' second: decode + 3 adds", hundred.perSecond, "ns/second (goal < 10 ms)"))
results.append(("  decode of one driver's interval", hundred.perHistogram, "ns/decode (goal <= 100 us)"))

// Peer: hdrhistogram-swift's record, one thread, same values.
var peer: Double?
if let i = CommandLine.arguments.firstIndex(of: "--peer"), i + 1 < CommandLine.arguments.count {
    var runs: [Double] = []
    for _ in 0..<rounds {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CommandLine.arguments[i + 1])
        p.arguments = ["bench", "\(recordsPerRound)"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        p.waitUntilExit()
        let s = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if let v = Double(s.trimmingCharacters(in: .whitespacesAndNewlines)) { runs.append(v) }
    }
    if !runs.isEmpty { peer = median(runs) }
}

print("Histogram micro-benchmarks (median of \(rounds) rounds, \(ProcessInfo.processInfo.activeProcessorCount) cores)")
for (name, value, unit) in results {
    print("  " + name.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: "%12.2f ", value) + unit)
}
if let peer {
    print("  " + "peer: hdrhistogram-swift record".padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: "%12.2f ns/value", peer))
    print(String(format: "  ratio HDRHistogram.record / peer:          %6.2fx (lower is faster)", results[0].1 / peer))
    print(String(format: "  ratio AtomicHDRHistogram.record / peer:    %6.2fx", results[1].1 / peer))
}

// --summary FILE: the headline rows as JSON lines for Perf/summary.py (Perf/results/latest.md).
if let i = CommandLine.arguments.firstIndex(of: "--summary"), i + 1 < CommandLine.arguments.count {
    func row(_ name: String, _ value: Double, _ unit: String, goal: String? = nil, peer: Double? = nil) -> String {
        var fields: [String: Any] = ["row": name, "value": value, "unit": unit]
        if let goal { fields["goal"] = goal }
        if let peer { fields["peer"] = peer; fields["peer_name"] = "hdrhistogram-swift" }
        return String(decoding: try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self)
    }
    let byName = Dictionary(results.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
    let lines = [
        row("HDRHistogram.record, 1 thread", results[0].1, "ns/value", peer: peer),
        row("decode of one driver's interval histogram", hundred.perHistogram / 1000, "us", goal: "<= 100"),
        row("merge of 100 drivers' second (decode + 3 adds)", hundred.perSecond / 1e6, "ms", goal: "< 10"),
        row("decode of a 1M-value histogram", byName["SparseCounts(base64:) decode"]! / 1000, "us"),
    ]
    let path = CommandLine.arguments[i + 1]
    if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
    guard let handle = FileHandle(forWritingAtPath: path) else {
        FileHandle.standardError.write(Data("histogram-bench: --summary: cannot write \(path)\n".utf8))
        exit(1)
    }
    handle.seekToEndOfFile()
    handle.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    handle.closeFile()
}
