import Messaging
import StampedeWire

/// What the orchestrator knows of one driver.
public struct DriverRecord: Sendable {
    public let id: String
    public var host: String
    public var threads: Int
    public var version: String
    public var state: DriverState
    /// Monotonic ns of the last register or heartbeat.
    public var lastHeard: UInt64
    public var testID: String?
    public var labels: [String: String] = [:]
    /// Its clock's offset from the orchestrator's, from heartbeat round trips.
    var clock = ClockOffsetEstimate()

    /// Whether the driver carries every label of `selector`.
    public func matches(_ selector: [String: String]) -> Bool { selector.allSatisfy { labels[$0.key] == $0.value } }

    /// A driver known only from a heartbeat or a restored test, not from its registration.
    static func unregistered(_ id: String, state: DriverState, now: UInt64, testID: String?) -> DriverRecord {
        DriverRecord(id: id, host: "unknown", threads: 1, version: "unknown", state: state, lastHeard: now, testID: testID)
    }

    func info(now: UInt64, maxClockOffsetMs: Double) -> DriverInfo {
        var info = DriverInfo(id: id, host: host, state: state.rawValue, threads: threads, version: version,
                              lastHeartbeatMsAgo: Int((now &- lastHeard) / 1_000_000), testID: testID, labels: labels)
        info.clock_offset_ms = clock.offsetMs.map { ($0 * 10).rounded() / 10 }
        info.rtt_ms = clock.roundTripMs.map { ($0 * 10).rounded() / 10 }
        info.refused = refusal(maxClockOffsetMs: maxClockOffsetMs)
        return info
    }

    /// Why tests must not use this driver: its clock is further off than `maxClockOffsetMs`, so a
    /// start time it is given would not be the others' (and its reported times would be skewed).
    func refusal(maxClockOffsetMs: Double) -> String? {
        guard let offset = clock.offsetMs, abs(offset) > maxClockOffsetMs else { return nil }
        return "its clock is \(String(format: "%.1f", abs(offset))) ms \(offset > 0 ? "ahead of" : "behind") the orchestrator's "
            + "(more than --max-clock-offset-ms \(Int(maxClockOffsetMs))): fix its time sync (NTP/chrony) or raise the limit"
    }
}

/// Drivers by id, from `register` and `heartbeat`. A driver silent for longer than the timeout is
/// `failed`; one that says it is leaving is removed.
struct DriverRegistry {
    private(set) var drivers: [String: DriverRecord] = [:]
    let timeoutNs: UInt64
    /// `--max-clock-offset-ms`: drivers whose clocks are further off are refused for tests.
    let maxClockOffsetMs: Double

    init(timeoutMs: Int, maxClockOffsetMs: Int = 1_000) {
        timeoutNs = UInt64(timeoutMs) * 1_000_000
        self.maxClockOffsetMs = Double(maxClockOffsetMs)
    }

    /// Adds a clock exchange completed by a driver's heartbeat (apply the heartbeat first).
    mutating func record(_ exchange: ClockExchange, for id: String) { drivers[id]?.clock.add(exchange) }

    /// Why tests must not use driver `id` now (see `DriverRecord.refusal`), or nil.
    func refusal(_ id: String) -> String? { drivers[id]?.refusal(maxClockOffsetMs: maxClockOffsetMs) }

    /// The driver's estimated clock offset (its clock minus ours), ms, if measured.
    func clockOffsetMs(_ id: String) -> Double? { drivers[id]?.clock.offsetMs }

    /// Applies a message; returns the driver's new state when it changed (to announce it).
    mutating func apply(_ message: BusMessage, now: UInt64) -> (id: String, state: String)? {
        switch message {
        case .register(let m):
            let before = drivers[m.driverID]?.state
            var record = DriverRecord(id: m.driverID, host: m.host, threads: m.threads, version: m.version,
                                      state: .idle, lastHeard: now, testID: nil, labels: m.labels ?? [:])
            record.clock = drivers[m.driverID]?.clock ?? ClockOffsetEstimate()
            drivers[m.driverID] = record
            return before == .idle ? nil : (m.driverID, DriverState.idle.rawValue)
        case .heartbeat(let m):
            if m.state == .leaving {
                return drivers.removeValue(forKey: m.driverID) == nil ? nil : (m.driverID, "left")
            }
            var record = drivers[m.driverID] ?? .unregistered(m.driverID, state: m.state, now: now, testID: nil)
            let before = drivers[m.driverID]?.state
            record.state = m.state
            record.lastHeard = now
            record.testID = m.testID
            if let labels = m.labels { record.labels = labels }
            drivers[m.driverID] = record
            return before == m.state ? nil : (m.driverID, m.state.rawValue)
        default:
            return nil
        }
    }

    /// Records what the orchestrator itself just did to a driver (sent it a test, saw it finish)
    /// until its next heartbeat says so. Not a sign of life: `lastHeard` is left alone.
    mutating func mark(_ id: String, state: DriverState, testID: String?) {
        drivers[id]?.state = state
        drivers[id]?.testID = testID
    }

    /// A driver a restored test is waiting for, not heard from yet by this orchestrator: busy, and
    /// failed if it stays silent for the timeout from `now`.
    mutating func expect(_ id: String, testID: String, now: UInt64) {
        guard drivers[id] == nil else { return }
        drivers[id] = .unregistered(id, state: .busy, now: now, testID: testID)
    }

    /// Marks drivers failed that have been silent for the timeout, counting silence only from
    /// `heardSince` (when the bus last came back: heartbeats held up in a stalled broker are not a
    /// driver's fault); returns their ids.
    mutating func expire(now: UInt64, heardSince: UInt64 = 0) -> [String] {
        var failed: [String] = []
        for (id, record) in drivers where record.state != .failed && now &- Swift.max(record.lastHeard, heardSince) > timeoutNs {
            drivers[id]?.state = .failed
            failed.append(id)
        }
        return failed.sorted()
    }

    var idle: [String] { drivers.values.filter { $0.state == .idle }.map(\.id).sorted() }

    func count(_ state: DriverState) -> Int { drivers.values.filter { $0.state == state }.count }

    func infos(now: UInt64) -> [DriverInfo] {
        drivers.values.sorted { $0.id < $1.id }.map { $0.info(now: now, maxClockOffsetMs: maxClockOffsetMs) }
    }
}
