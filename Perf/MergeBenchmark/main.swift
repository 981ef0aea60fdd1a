import Foundation
import Orchestrator

// The orchestrator's CPU for a test's seconds, in process (Orchestrator.MergeBenchmark): the
// drivers' interval messages as the bus carries them, decoded, merged, announced and encoded for
// /ws, all on one thread. Goal (issue: the orchestrator at scale with the phase timings): a second
// of 100 drivers, 20 names and 3 scenarios in at most 250 ms of one core. `make perf` runs it.
//
// usage: merge-bench [DRIVERS NAMES SCENARIOS SECONDS] ...   (default: 100 20 3 10, 100 20 1 10)

var shapes: [[Int]] = []
let numbers = CommandLine.arguments.dropFirst().compactMap { Int($0) }
for start in stride(from: 0, to: numbers.count - 3, by: 4) { shapes.append(Array(numbers[start..<start + 4])) }
if shapes.isEmpty { shapes = [[100, 20, 3, 10], [100, 20, 1, 10]] }
print("merge-bench (\(ISO8601DateFormatter().string(from: Date()).prefix(10))): CPU per second of test, one thread, release build")
print("| drivers | names | scenarios | histograms/s | bytes/driver-second | decode+merge ms (JSON, histograms) | announce ms | /ws JSON ms | total ms | goal | RSS before, after merging (MiB) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for shape in shapes {
    let f = try MergeBenchmark.run(drivers: shape[0], names: shape[1], scenarios: shape[2], seconds: shape[3])
    let ms = { (s: Double) in String(format: "%.1f", s * 1000) }
    print("| \(shape[0]) | \(shape[1]) | \(shape[2]) | \(f.histogramsPerSecond) | \(f.messageBytes) | \(ms(f.mergeCPU)) (\(ms(f.jsonCPU)), \(ms(f.histogramDecodeCPU))) | \(ms(f.announceCPU)) | \(ms(f.liveJSONCPU)) | \(ms(f.totalCPU)) | \(f.totalCPU <= 0.25 ? "≤ 250: met" : "≤ 250: NOT met") | \(f.residentBeforeMiB), \(f.residentAfterMiB) |")
}

