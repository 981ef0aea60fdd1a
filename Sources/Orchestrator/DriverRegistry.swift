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

    /// Whether the driver carries every label of `selector`.
    public func matches(_ selector: [String: String]) -> Bool { selector.allSatisfy { labels[$0.key] == $0.value } }

    /// A driver known only from a heartbeat or a restored test, not from its registration.
    static func unregistered(_ id: String, state: DriverState, now: UInt64, testID: String?) -> DriverRecord {
        DriverRecord(id: id, host: "unknown", threads: 1, version: "unknown", state: state, lastHeard: now, testID: testID)
    }

    func info(now: UInt64) -> DriverInfo {
        DriverInfo(id: id, host: host, state: state.rawValue, threads: threads, version: version,
                   lastHeartbeatMsAgo: Int((now &- lastHeard) / 1_000_000), testID: testID, labels: labels)
    }
}

/// Drivers by id, from `register` and `heartbeat`. A driver silent for longer than the timeout is
/// `failed`; one that says it is leaving is removed.
struct DriverRegistry {
    private(set) var drivers: [String: DriverRecord] = [:]
    let timeoutNs: UInt64

    init(timeoutMs: Int) { timeoutNs = UInt64(timeoutMs) * 1_000_000 }

    /// Applies a message; returns the driver's new state when it changed (to announce it).
    mutating func apply(_ message: BusMessage, now: UInt64) -> (id: String, state: String)? {
        switch message {
        case .register(let m):
            let before = drivers[m.driverID]?.state
            drivers[m.driverID] = DriverRecord(id: m.driverID, host: m.host, threads: m.threads, version: m.version,
                                                state: .idle, lastHeard: now, testID: nil, labels: m.labels ?? [:])
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
        drivers.values.sorted { $0.id < $1.id }.map { $0.info(now: now) }
    }
}
