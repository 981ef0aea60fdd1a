// hdr-oracle: answers questions about value sets using hdrhistogram-swift (the Swift port of
// HdrHistogram), for Stampede's property tests and benchmarks.
//
//   hdr-oracle percentiles P1,P2,...   < values, one per line
//       prints "total min max p1value p2value ..." on one line
//   hdr-oracle bench N
//       records N values single-threaded and prints nanoseconds per record
import Foundation
import Histogram

let args = CommandLine.arguments
guard args.count == 3 else {
    FileHandle.standardError.write("usage: hdr-oracle percentiles P1,P2,... | bench N\n".data(using: .utf8)!)
    exit(2)
}

var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000,
                                  numberOfSignificantValueDigits: .three)
switch args[1] {
case "percentiles":
    let percentiles = args[2].split(separator: ",").map { Double($0)! }
    while let line = readLine() {
        guard let v = UInt64(line) else { continue }
        _ = histogram.record(v)
    }
    var out = ["\(histogram.totalCount)", "\(histogram.min)", "\(histogram.max)"]
    for p in percentiles { out.append("\(histogram.valueAtPercentile(p))") }
    print(out.joined(separator: " "))
case "bench":
    let n = Int(args[2])!
    var values = [UInt64](repeating: 0, count: 4096)
    var x: UInt64 = 0x9E37_79B9_7F4A_7C15
    for i in values.indices { x ^= x << 13; x ^= x >> 7; x ^= x << 17; values[i] = 50 + x % 50_000 }
    let start = DispatchTime.now().uptimeNanoseconds
    for i in 0..<n { _ = histogram.record(values[i & 4095]) }
    let elapsed = DispatchTime.now().uptimeNanoseconds - start
    precondition(histogram.totalCount == UInt64(n))
    print(String(format: "%.3f", Double(elapsed) / Double(n)))
default:
    exit(2)
}
