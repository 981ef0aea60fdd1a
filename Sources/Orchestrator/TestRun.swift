import Foundation
import Histogram
import LoadGenerator
import Messaging

/// One second of a test, merged over the drivers that reported it.
struct MergedSecond {
    var drivers: Set<String> = []
    var counters = LoadCounters()
    var latency = HDRHistogram()
}

/// A test's life in the orchestrator: its definition, the drivers it went to, every second merged
/// from their histograms (exact percentiles, never averaged), their final messages, and the
/// drivers that failed on the way.
final class TestRun {
    enum Status: String { case created, running, done, failed }

    let definition: TestDefinition
    var status: Status = .created
    var assigned: [String] = []
    var startAtMs: Int64 = 0
    /// Seconds still being merged (a full histogram each).
    var seconds: [Int: MergedSecond] = [:]
    /// Seconds already announced, kept compact (encoded) for `latency.hlog`: a long test would
    /// otherwise hold 184 KiB per second.
    var compactSeconds: [Int: (encoded: String, max: Int64)] = [:]
    /// Everything merged so far, for live figures while the test runs.
    var soFar = MergedSecond()
    /// Seconds already sent on /ws.
    var announced = 0
    var finals: [String: FinalMessage] = [:]
    var failedDrivers: Set<String> = []
    private var seenIntervals: Set<String> = []
    var report: LoadReport?
    /// Why the test could not complete (it then ends `failed`, its report partial).
    var error: String?

    let createdAtMs: Int64
    /// Wall clock of the trigger (a restarted orchestrator reads the metrics topic from shortly before).
    var triggeredAtMs: Int64?

    init(definition: TestDefinition, createdAtMs: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) {
        self.definition = definition
        self.createdAtMs = createdAtMs
    }

    var id: String { definition.testID }

    func add(_ m: IntervalMessage) throws {
        guard assigned.contains(m.driver_id) else { return }
        guard seenIntervals.insert("\(m.driver_id)/\(m.t)").inserted else { return }  // a redelivered message counts once
        let histogram = try HDRHistogram(base64: m.histogram)
        let c = LoadCounters(requests: m.requests, responses: m.responses, errors: m.errors, bytesRead: m.bytes_read)
        soFar.counters = soFar.counters + c
        try soFar.latency.add(histogram)
        if let late = compactSeconds[m.t] {
            // A driver's second that arrived after the second was announced: fold it into the log.
            var merged = try HDRHistogram(base64: late.encoded)
            try merged.add(histogram)
            compactSeconds[m.t] = (merged.encodeBase64(), merged.max)
            return
        }
        var s = seconds[m.t] ?? MergedSecond()
        s.drivers.insert(m.driver_id)
        s.counters = s.counters + c
        try s.latency.add(histogram)
        seconds[m.t] = s
    }

    func add(_ m: FinalMessage) {
        guard assigned.contains(m.driver_id), !failedDrivers.contains(m.driver_id) else { return }
        finals[m.driver_id] = m
    }

    /// Drivers still expected to report.
    var live: [String] { assigned.filter { !failedDrivers.contains($0) } }

    var isComplete: Bool { status == .running && live.allSatisfy { finals[$0] != nil } }

    /// Seconds every live driver has reported (or that are older than the newest by 2 s), in order.
    func secondsReady() -> [(Int, MergedSecond)] {
        let newest = seconds.keys.max() ?? 0
        var ready: [(Int, MergedSecond)] = []
        var t = announced + 1
        while let s = seconds[t] {
            let everyone = live.allSatisfy { s.drivers.contains($0) || finals[$0] != nil }
            guard everyone || newest >= t + 2 || isComplete else { break }
            ready.append((t, s))
            compactSeconds[t] = (s.latency.encodeBase64(), s.latency.max)
            seconds[t] = nil
            announced = t
            t += 1
        }
        return ready
    }

    /// The merged report, with the merged latency histogram it was computed from: from the finals
    /// when complete, from the seconds so far while running.
    func buildReport() throws -> (report: LoadReport, latency: HDRHistogram) {
        var counters = LoadCounters()
        var latency = HDRHistogram()
        var service: HDRHistogram? = definition.mode == .tsunami ? HDRHistogram() : nil
        let start: Date
        var duration: Double
        let finished = live.allSatisfy { finals[$0] != nil } && !finals.isEmpty
        if finished {
            let used = finals.values.sorted { $0.driver_id < $1.driver_id }
            for f in used {
                counters = counters + LoadCounters(requests: f.requests, responses: f.responses, errors: f.errors,
                                                   bytesRead: f.bytes_read)
                try latency.add(try HDRHistogram(base64: f.histogram))
                if let s = f.service_histogram { try service?.add(try HDRHistogram(base64: s)) }
            }
            let begin = used.map { Double($0.started_at_ms) / 1000 }.min() ?? Double(startAtMs) / 1000
            let end = used.map { Double($0.started_at_ms) / 1000 + $0.duration_s }.max() ?? begin
            start = Date(timeIntervalSince1970: begin)
            duration = end - begin
        } else {
            counters = soFar.counters
            latency = soFar.latency
            start = Date(timeIntervalSince1970: Double(startAtMs) / 1000)
            duration = Swift.max(0, Date().timeIntervalSince(start))
        }
        duration = Swift.max(duration, 0)
        let report = LoadReport(testID: id, mode: definition.mode, target: definition.target.description, startedAt: start,
                                duration: duration, drivers: assigned, counters: counters, latency: latency, serviceTime: service,
                                partial: !failedDrivers.isEmpty || error != nil, failedDrivers: failedDrivers.sorted(),
                                thresholds: definition.thresholds)
        var withError = report
        withError.error = error
        return (withError, latency)
    }

    /// Start skew across drivers: how late each started after `start_at_ms`, from the finals.
    var startLags: [String: Double] {
        finals.compactMapValues { $0.start_lag_ms }
    }
}
