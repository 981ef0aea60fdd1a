import Histogram
import Foundation
import StampedeModel

/// A driver as `GET /drivers`, the /ws snapshot and the dashboard show it.
public struct DriverInfo: Codable, Sendable, Equatable {
    public var id: String
    public var host: String
    public var state: String
    public var threads: Int
    public var version: String
    public var last_heartbeat_ms_ago: Int
    public var test_id: String?
    public var labels: [String: String]
    /// The driver's wall clock minus the orchestrator's (ms; positive: the driver's is ahead) and
    /// the round trip it was measured over, from heartbeat round trips; null until measured.
    public var clock_offset_ms: Double?
    public var rtt_ms: Double?
    /// Why tests do not use this driver although it is alive (its clock is too far off), or null.
    public var refused: String?

    public init(id: String, host: String, state: String, threads: Int, version: String, lastHeartbeatMsAgo: Int, testID: String?,
                labels: [String: String] = [:]) {
        self.labels = labels
        self.id = id; self.host = host; self.state = state; self.threads = threads; self.version = version
        last_heartbeat_ms_ago = lastHeartbeatMsAgo; test_id = testID
    }

    private enum CodingKeys: String, CodingKey {
        case id, host, state, threads, version, last_heartbeat_ms_ago, test_id, labels, clock_offset_ms, rtt_ms, refused
    }

    // Encoded by hand so an absent test id is an explicit null, as clients have always read it.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(host, forKey: .host); try c.encode(state, forKey: .state)
        try c.encode(threads, forKey: .threads); try c.encode(version, forKey: .version)
        try c.encode(last_heartbeat_ms_ago, forKey: .last_heartbeat_ms_ago); try c.encode(test_id, forKey: .test_id)
        try c.encode(labels, forKey: .labels)
        try c.encode(clock_offset_ms, forKey: .clock_offset_ms); try c.encode(rtt_ms, forKey: .rtt_ms)
        try c.encode(refused, forKey: .refused)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id); host = try c.decode(String.self, forKey: .host)
        state = try c.decode(String.self, forKey: .state); threads = try c.decode(Int.self, forKey: .threads)
        version = try c.decode(String.self, forKey: .version)
        last_heartbeat_ms_ago = try c.decode(Int.self, forKey: .last_heartbeat_ms_ago)
        test_id = try c.decodeIfPresent(String.self, forKey: .test_id)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        clock_offset_ms = try c.decodeIfPresent(Double.self, forKey: .clock_offset_ms)
        rtt_ms = try c.decodeIfPresent(Double.self, forKey: .rtt_ms)
        refused = try c.decodeIfPresent(String.self, forKey: .refused)
    }
}

/// A test as `GET /tests` lists it and the /ws feed announces it.
public struct TestSummary: Codable, Sendable {
    public var test_id: String
    public var status: String
    public var mode: String
    public var target: String
    public var drivers: [String]
    public var report: LoadReport?
    public var error: String?

    public init(testID: String, status: String, mode: LoadMode, target: String, drivers: [String], report: LoadReport?, error: String?) {
        test_id = testID; self.status = status; self.mode = mode.rawValue; self.target = target; self.drivers = drivers
        self.report = report; self.error = error
    }
}

/// `GET /tests/{id}`: the summary, the TestConfig as posted, live figures while running.
public struct TestDetail: Encodable, Sendable {
    public var summary: TestSummary
    public var config: JSONValue
    /// True while `report` holds the figures so far of a running test.
    public var live: Bool?
    public var failed_drivers: [String]?

    public init(summary: TestSummary, config: JSONValue, live: Bool?, failedDrivers: [String]?) {
        self.summary = summary; self.config = config; self.live = live; failed_drivers = failedDrivers
    }

    private enum Keys: String, CodingKey { case config, live, failed_drivers }

    public func encode(to encoder: Encoder) throws {
        try summary.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(config, forKey: .config)
        try c.encodeIfPresent(live, forKey: .live)
        try c.encodeIfPresent(failed_drivers, forKey: .failed_drivers)
    }
}

/// Everything the /ws feed sends, one JSON text frame each (docs/websocket.md).
public enum LiveEvent: Sendable {
    /// On connect: every driver and test, so a reconnecting client recovers its state.
    /// `intervals`: each running test's seconds so far (without histograms), so a page opened
    /// mid-test draws the whole test.
    case snapshot(drivers: [DriverInfo], tests: [TestSummary], intervals: [String: [IntervalEvent]])
    /// A test was created.
    case test(TestSummary)
    /// One merged second of a running test.
    case interval(IntervalEvent)
    /// A driver changed state (`left` when it said goodbye).
    case driver(id: String, state: String)
    /// A test ended: its report, and its percentile spectrum as `[percentile, µs]` pairs so the
    /// dashboard can plot the distribution without decoding the histogram.
    case final(testID: String, report: LoadReport, spectrum: [[Double]])
    /// A capacity search finished a step (the dashboard lists them as they come).
    case searchStep(testID: String, step: SearchStep, next: Double?)
    /// The running load was changed (steering): the change as the report lists it.
    case change(testID: String, change: ChangeRecord)

    public struct IntervalEvent: Codable, Sendable, TimingFields {
        public var type = "interval"
        public var test_id: String
        /// 1-based second since the test's start.
        public var t: Int
        /// Drivers that reported this second.
        public var drivers: Int
        public var requests: Int
        public var responses: Int
        public var errors: ErrorCounts
        public var rps: Int
        public var latency_us: LatencySummary
        /// The merged histogram of this second, HdrHistogram V2 compressed, base64 (absent in a
        /// snapshot's replay of earlier seconds).
        public var histogram: String?
        /// The whole test so far as `[percentile, µs]` pairs (from the merged histogram), so the
        /// percentile chart is live.
        public var spectrum: [[Double]]?
        public var status_codes: StatusCodeCounts
        /// A list of requests: this second per name (with each name's histogram).
        public var by_name: [String: NameReport]?
        /// Sockets open as the second ended (all drivers).
        public var connections: Int
        /// Tsunami: the requests intended in this second; avalanche stages: the connections wanted.
        public var target_rate: Double?
        public var target_connections: Double?
        /// `order: sequence`: sessions that started, completed and failed in this second, and the
        /// p99 of the completed ones' duration (µs).
        public var sessions_started: Int?
        public var sessions_completed: Int?
        public var sessions_failed: Int?
        public var session_p99_us: Int64?
        /// Drivers whose interval for this second had not arrived when it was announced (a slow or
        /// cut-off link): the second is short by their share, which the report and latency.hlog
        /// still count. Absent when every driver's arrived.
        public var late_drivers: [String]?
        /// Steering: the test was paused for some of this second (absent: it was not).
        public var paused: Bool?
        /// The test's thresholds judged on the whole test so far (absent: it has none).
        public var thresholds: [ThresholdState]?
        /// A test of named scenarios: this second of each (absent otherwise).
        public var scenarios: [String: ScenarioSecond]?
        /// Where this second's time went (each absent when nothing was timed).
        public var connect_us: LatencySummary?
        public var tls_us: LatencySummary?
        public var waiting_us: LatencySummary?
        public var receiving_us: LatencySummary?

        public init(testID: String, t: Int, drivers: Int, counters: LoadCounters, latency: LatencySummary, histogram: String,
                    byName: [NamedFigures] = [], encodedByName: [String: String] = [:], connections: Int = 0, targetRate: Double? = nil,
                    targetConnections: Double? = nil) {
            self.connections = connections
            target_rate = targetRate.map { ($0 * 10).rounded() / 10 }
            target_connections = targetConnections.map { ($0 * 10).rounded() / 10 }
            test_id = testID; self.t = t; self.drivers = drivers; requests = counters.requests; responses = counters.responses
            errors = counters.errors; rps = counters.responses; latency_us = latency; self.histogram = histogram
            status_codes = counters.statusCodes
            let timed = NameShare.timedEachSecond(names: byName.count)
            by_name = byName.isEmpty ? nil : Dictionary(byName.map { ($0.name, NameReport($0, timings: timed, encoded: encodedByName[$0.name])) }, uniquingKeysWith: { a, _ in a })
        }

        /// The second's sessions (a test with `order: sequence`).
        public mutating func setSessions(_ counts: SessionCounts, duration: HDRHistogram?) {
            sessions_started = counts.started
            sessions_completed = counts.completed
            sessions_failed = counts.failed
            session_p99_us = duration.flatMap { $0.totalCount > 0 ? $0.value(atPercentile: 99) : nil }
        }
    }

    private struct Snapshot: Encodable {
        let type = "snapshot"; let drivers: [DriverInfo]; let tests: [TestSummary]; let intervals: [String: [IntervalEvent]]
    }
    private struct Test: Encodable { let type = "test"; let test: TestSummary }
    private struct Driver: Encodable { let type = "driver"; let id: String; let state: String }
    private struct Final: Encodable { let type = "final"; let test_id: String; let report: LoadReport; let spectrum: [[Double]] }
    private struct Step: Encodable { let type = "search_step"; let test_id: String; let step: SearchStep; let next_rate: Double? }
    private struct Change: Encodable { let type = "change"; let test_id: String; let change: ChangeRecord }

    /// The frame's JSON text (keys sorted).
    public var json: String {
        switch self {
        case .snapshot(let drivers, let tests, let intervals): return encodeJSON(Snapshot(drivers: drivers, tests: tests, intervals: intervals))
        case .test(let summary): return encodeJSON(Test(test: summary))
        case .interval(let event): return encodeJSON(event)
        case .driver(let id, let state): return encodeJSON(Driver(id: id, state: state))
        case .final(let testID, let report, let spectrum): return encodeJSON(Final(test_id: testID, report: report, spectrum: spectrum))
        case .searchStep(let testID, let step, let next): return encodeJSON(Step(test_id: testID, step: step, next_rate: next))
        case .change(let testID, let change): return encodeJSON(Change(test_id: testID, change: change))
        }
    }
}

/// Compact JSON with sorted keys. The wire types hold strings, integers, finite doubles and
/// collections of them, so encoding cannot fail; a failure would be a programming error.
public func encodeJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do { return String(decoding: try encoder.encode(value), as: UTF8.self) } catch {
        preconditionFailure("\(T.self) did not encode: \(error)")
    }
}

/// One scenario's second on the live feed: its counts, its latency (merged from every driver
/// running it), and what it intended.
public struct ScenarioSecond: Codable, Sendable {
    public var requests: Int
    public var responses: Int
    public var errors: Int
    public var rps: Int
    public var latency_us: LatencySummary
    public var target_rate: Double?
    public var sessions_started: Int?
    public var sessions_completed: Int?

    public init(_ f: Figures, targetRate: Double?) {
        requests = f.counters.requests
        responses = f.counters.responses
        errors = f.counters.errors.total
        rps = f.counters.responses
        latency_us = LatencySummary(f.latency)
        target_rate = targetRate.map { ($0 * 10).rounded() / 10 }
        if f.sessions != nil {
            sessions_started = f.counters.sessions.started
            sessions_completed = f.counters.sessions.completed
        }
    }
}
