import Foundation
import Histogram
import Logging
import Messaging
import Reactor
import StampedeModel
import StampedeWire

/// What the orchestrator spends on a test's seconds, measured in process (`make perf` runs it as
/// `merge-bench`): `drivers` drivers' interval messages, each with `names` request names in each
/// of `scenarios` scenarios and every timing histogram, are encoded as the bus carries them, then
/// decoded, merged, announced (each second encoded for `latency.hlog` and made into its /ws
/// event) and JSON-encoded for /ws, all on the calling thread. The orchestrator splits this work
/// over its reactor and two background threads; here it is all on one core, so the figure is
/// what one core must keep up with.
public enum MergeBenchmark {
    public struct Figures: Sendable {
        /// CPU seconds per second of test: decoding and merging (of which parsing the messages'
        /// JSON, and decoding their histograms), announcing, the /ws JSON.
        public let jsonCPU: Double
        public let histogramDecodeCPU: Double
        public let mergeCPU: Double
        public let announceCPU: Double
        public let liveJSONCPU: Double
        /// Histograms the messages of one second carry, and the bytes of one driver's second.
        public let histogramsPerSecond: Int
        public let messageBytes: Int
        /// Resident memory before the messages are merged and after (MiB): what the test's
        /// merged figures hold.
        public let residentBeforeMiB: Int
        public let residentAfterMiB: Int
        public var totalCPU: Double { mergeCPU + announceCPU + liveJSONCPU }
    }

    public static func run(drivers: Int, names: Int, scenarios: Int, seconds: Int, requestsPerDriverSecond: Int = 100) throws -> Figures {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-merge-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let bus = InMemoryBus(topics: .stampede())
        var quiet = Logger(label: "merge-bench")
        quiet.logLevel = .warning
        let clock = SystemClock()
        let book = TestBook(clock: clock, publisher: try bus.makePublisher(), reports: ReportStore(directory: directory),
                            log: quiet, startDelayMs: 0, allowedTargets: try TargetAllowList([]))
        var liveJSON = 0.0
        book.onEvent = { event in
            let start = threadCPUSeconds()
            _ = event.json
            liveJSON += threadCPUSeconds() - start
        }
        let requests = (0..<names).map { #"{"name": "n\#($0)", "url": "http://127.0.0.1:9/p\#($0)"}"# }.joined(separator: ",")
        let load = #""test_type": "TSUNAMI", "rate": \#(requestsPerDriverSecond * drivers), "duration_s": \#(seconds), "connections": 5, "requests": [\#(requests)]"#
        let config = scenarios > 1
            ? #"{"test_id": "bench", "scenarios": {\#((0..<scenarios).map { #""s\#($0)": {\#(load)}"# }.joined(separator: ","))}}"#
            : #"{"test_id": "bench", \#(load)}"#
        _ = try book.create(json: Array(config.utf8))
        let ids = (0..<drivers).map { String(format: "d%03d", $0) }
        let (run, _) = try book.trigger(id: "bench", idle: ids)
        // Every message made and encoded before the clock starts.
        var generator = SystemRandomNumberGenerator()
        var records: [[BusRecord]] = []
        var histograms = 0
        for t in 1...seconds {
            records.append(ids.map { id in
                let message = interval(driver: id, t: t, names: names, scenarios: scenarios, requests: requestsPerDriverSecond, random: &generator)
                if t == 1 { histograms += message.histogramCountWithScenarios }
                let bus = BusMessage.interval(message)
                return BusRecord(topic: .metrics, partition: 0, offset: 0, key: id, payload: bus.encoded())
            })
        }
        var merge = 0.0, all = 0.0, json = 0.0, histogramDecode = 0.0
        returnFreedMemory()
        let residentBefore = residentMiB()
        for second in records {
            for record in second {
                let start = threadCPUSeconds()
                guard case .success(let message) = BusMessage.decode(record), case .interval(let m) = message else {
                    throw CocoaError(.coderReadCorrupt)
                }
                json += threadCPUSeconds() - start
                let incoming = IncomingMetrics(message, clock: clock)  // as the metrics intake reads it
                histogramDecode += incoming.decodeCPUSeconds
                let before = book.mergeCPUSeconds
                book.add(m, decoded: incoming.decoded, decodeCPUSeconds: threadCPUSeconds() - start)
                merge += book.mergeCPUSeconds - before  // decoding and merging
                all += threadCPUSeconds() - start       // and the announcing (with the /ws JSON) it set off
            }
        }
        let announce = all - merge - liveJSON
        precondition(run.announced == seconds, "announced \(run.announced) of \(seconds) seconds")
        let perSecond = Double(seconds)
        return Figures(jsonCPU: json / perSecond, histogramDecodeCPU: histogramDecode / perSecond, mergeCPU: merge / perSecond, announceCPU: Swift.max(0, announce) / perSecond, liveJSONCPU: liveJSON / perSecond,
                       histogramsPerSecond: histograms, messageBytes: records[0][0].payload.count,
                       residentBeforeMiB: residentBefore, residentAfterMiB: residentMiB())
    }

    /// This process's resident memory now (statm), MiB.
    private static func residentMiB() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let pages = Int(text.split(separator: " ").dropFirst().first ?? "0") ?? 0
        return (pages * Int(sysconf(Int32(_SC_PAGESIZE)))) >> 20
    }

    /// One driver's second: `requests` latencies spread over the names of each scenario, each
    /// with its waiting and receiving, and a new connection every tenth request.
    private static func interval(driver: String, t: Int, names: Int, scenarios: Int, requests: Int,
                                 random: inout SystemRandomNumberGenerator) -> IntervalMessage {
        var whole = StampedeModel.Figures()
        var shares: [String: ScenarioShare] = [:]
        for s in 0..<scenarios {
            var figures = StampedeModel.Figures()
            for k in 0..<requests / scenarios {
                let latency = Int64.random(in: 800...60_000, using: &random), waiting = latency * 7 / 10
                var named = NamedFigures(name: "n\(k % names)")
                named.counters = LoadCounters(requests: 1, responses: 1, errors: ErrorCounts(), bytesRead: 1_000, retriedStale: 0,
                                              statusCodes: StatusCodeCounts())
                named.latency.record(latency, count: 1)
                named.timings.waiting.record(waiting, count: 1)
                named.timings.receiving.record(latency - waiting, count: 1)
                if k % 10 == 0 { named.timings.connect.record(Int64.random(in: 50...500, using: &random), count: 1) }
                var one = StampedeModel.Figures(counters: named.counters, latency: named.latency)
                one.timings = named.timings
                one.byName = FiguresByName([named])
                try! figures.add(one)
            }
            try! whole.add(figures)
            if scenarios > 1 { shares["s\(s)"] = ScenarioShare(second: figures) }
        }
        var message = IntervalMessage(driverID: driver, testID: "bench", t: t, requests: 0, responses: 0, errors: ErrorCounts(),
                                      bytesRead: 0, histogram: "")
        message.carry(second: whole)
        message.connections = 5
        if !shares.isEmpty { message.scenarios = shares }
        return message
    }
}
