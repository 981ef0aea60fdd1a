import Foundation
import Histogram
import Logging
import Messaging
import StampedeModel

/// Message schema version. A message with a higher `v` is skipped (logged), never misread.
public let busMessageVersion = 1

/// The `type` of each message on the bus, spelled as on the wire (docs/kafka.md).
public enum BusMessageKind: String, Codable, Sendable {
    case register, heartbeat, test_config, trigger, stop, interval, final, clock_probe, change
}

/// What a driver is doing, as heartbeats and the orchestrator's registry say it.
public enum DriverState: String, Codable, Sendable {
    case idle, busy, leaving, failed
}

/// `register` topic: a driver announces itself on start.
public struct RegisterMessage: Codable, Sendable, Equatable {
    public private(set) var type = BusMessageKind.register
    public var v = busMessageVersion
    public var driverID: String
    public var host: String
    public var threads: Int
    public var version: String
    public var pid: Int32
    /// `--label KEY=VALUE` of the driver: tests select drivers by them (`driver_selector`).
    public var labels: [String: String]?

    public init(driverID: String, host: String, threads: Int, version: String, pid: Int32) {
        self.driverID = driverID; self.host = host; self.threads = threads; self.version = version; self.pid = pid
    }

    private enum CodingKeys: String, CodingKey {
        case type, v, driverID = "driver_id", host, threads, version, pid, labels
    }
}

/// `heartbeat` topic: every second from every driver.
public struct HeartbeatMessage: Codable, Sendable, Equatable {
    public private(set) var type = BusMessageKind.heartbeat
    public var v = busMessageVersion
    public var driverID: String
    public var state: DriverState
    public var testID: String?
    /// Sender's wall clock, ms since the epoch.
    public var sentAtMs: Int64
    /// The driver's labels again, so an orchestrator that missed the registration knows them.
    public var labels: [String: String]?
    /// Sender's wall clock in µs (the clock-offset estimate needs better than ms).
    public var sentAtUs: Int64?
    /// The newest `clock_probe` the driver received, echoed: with `sent_at_us` the orchestrator
    /// has the four times of an NTP exchange.
    public var probe: ProbeEcho?

    public init(driverID: String, state: DriverState, testID: String?, sentAtMs: Int64) {
        self.driverID = driverID; self.state = state; self.testID = testID; self.sentAtMs = sentAtMs
    }

    private enum CodingKeys: String, CodingKey {
        case type, v, driverID = "driver_id", state, testID = "test_id", sentAtMs = "sent_at_ms", labels,
             sentAtUs = "sent_at_us", probe
    }
}

/// A `clock_probe` as a driver received it: whose, sent when (the orchestrator's clock), received
/// when (the driver's clock), both wall-clock µs since the epoch.
public struct ProbeEcho: Codable, Sendable, Equatable {
    public var orchestratorID: String
    public var sentAtUs: Int64
    public var receivedAtUs: Int64

    public init(orchestratorID: String, sentAtUs: Int64, receivedAtUs: Int64) {
        self.orchestratorID = orchestratorID; self.sentAtUs = sentAtUs; self.receivedAtUs = receivedAtUs
    }

    private enum CodingKeys: String, CodingKey {
        case orchestratorID = "orchestrator_id", sentAtUs = "sent_at_us", receivedAtUs = "received_at_us"
    }
}

/// `trigger` topic: the orchestrator's wall clock, every second, for every driver to echo in its
/// next heartbeat (`HeartbeatMessage.probe`).
public struct ClockProbeMessage: Codable, Sendable, Equatable {
    public private(set) var type = BusMessageKind.clock_probe
    public var v = busMessageVersion
    public var orchestratorID: String
    public var sentAtUs: Int64

    public init(orchestratorID: String, sentAtUs: Int64) { self.orchestratorID = orchestratorID; self.sentAtUs = sentAtUs }

    private enum CodingKeys: String, CodingKey { case type, v, orchestratorID = "orchestrator_id", sentAtUs = "sent_at_us" }
}

/// `test_config` topic: a test for the listed drivers (nil: every driver that receives it).
public struct TestConfigMessage: Codable, Sendable, Equatable {
    public private(set) var type = BusMessageKind.test_config
    public var v = busMessageVersion
    public var testID: String
    public var driverIDs: [String]?
    public var config: TestSpec
    /// nil: the test's own share. 2, 3, …: extra work for the same test (a failed driver's unsent
    /// requests handed to a survivor), run after the driver's current work.
    public var part: Int?

    public init(testID: String, driverIDs: [String]?, config: TestSpec, part: Int? = nil) {
        self.testID = testID; self.driverIDs = driverIDs; self.config = config; self.part = part
    }

    private enum CodingKeys: String, CodingKey {
        case type, v, testID = "test_id", driverIDs = "driver_ids", config, part
    }
}

/// `trigger` topic: start a configured test at `start_at_ms` (wall clock), so drivers begin together.
public struct TriggerMessage: Codable, Sendable, Equatable {
    public private(set) var type = BusMessageKind.trigger
    public var v = busMessageVersion
    public var testID: String
    public var driverIDs: [String]?
    public var startAtMs: Int64
    /// As in `TestConfigMessage`.
    public var part: Int?
    /// Each driver's start time on its own clock (`start_at_ms` plus its estimated clock offset),
    /// so drivers whose clocks disagree still start together; a driver not listed uses `start_at_ms`.
    public var startAtMsByDriver: [String: Int64]?

    public init(testID: String, driverIDs: [String]?, startAtMs: Int64, part: Int? = nil) {
        self.testID = testID; self.driverIDs = driverIDs; self.startAtMs = startAtMs; self.part = part
    }

    /// When `driver` is to start, on its own clock.
    public func startAtMs(for driver: String) -> Int64 { startAtMsByDriver?[driver] ?? startAtMs }

    private enum CodingKeys: String, CodingKey {
        case type, v, testID = "test_id", driverIDs = "driver_ids", startAtMs = "start_at_ms", part,
             startAtMsByDriver = "start_at_ms_by_driver"
    }
}

/// `trigger` topic: stop a running test now (requests in flight finish).
public struct StopMessage: Codable, Sendable, Equatable {
    public private(set) var type = BusMessageKind.stop
    public var v = busMessageVersion
    public var testID: String

    public init(testID: String) { self.testID = testID }

    private enum CodingKeys: String, CodingKey {
        case type, v, testID = "test_id"
    }
}

/// Every message on the bus, decoded.
public enum BusMessage: Sendable, Equatable {
    case register(RegisterMessage)
    case heartbeat(HeartbeatMessage)
    case testConfig(TestConfigMessage)
    case trigger(TriggerMessage)
    case stop(StopMessage)
    case change(ChangeMessage)
    case interval(IntervalMessage)
    case final(FinalMessage)
    case clockProbe(ClockProbeMessage)

    /// The topic the message travels on.
    public var topic: Topic {
        switch self {
        case .register: return .register
        case .heartbeat: return .heartbeat
        case .testConfig: return .test_config
        case .trigger, .stop, .change, .clockProbe: return .trigger
        case .interval, .final: return .metrics
        }
    }

    /// Partition key: the driver id where one applies (keeps a driver's messages in order).
    public var key: String? {
        switch self {
        case .register(let m): return m.driverID
        case .heartbeat(let m): return m.driverID
        case .interval(let m): return m.driverID
        case .final(let m): return m.driverID
        case .testConfig(let m): return m.testID
        case .trigger(let m): return m.testID
        case .stop(let m): return m.testID
        case .change(let m): return m.testID
        case .clockProbe(let m): return m.orchestratorID
        }
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.userInfo[.sparseCounts] = true
        let data: Data?
        switch self {
        case .register(let m): data = try? encoder.encode(m)
        case .heartbeat(let m): data = try? encoder.encode(m)
        case .testConfig(let m): data = try? encoder.encode(m)
        case .trigger(let m): data = try? encoder.encode(m)
        case .stop(let m): data = try? encoder.encode(m)
        case .change(let m): data = try? encoder.encode(m)
        case .interval(let m): data = try? encoder.encode(m)
        case .final(let m): data = try? encoder.encode(m)
        case .clockProbe(let m): data = try? encoder.encode(m)
        }
        // These types hold only strings, numbers and arrays of them: encoding cannot fail.
        return [UInt8](data!)
    }

    /// The kind of message this is (its `type` on the wire).
    public var kind: BusMessageKind {
        switch self {
        case .register: return .register
        case .heartbeat: return .heartbeat
        case .testConfig: return .test_config
        case .trigger: return .trigger
        case .stop: return .stop
        case .change: return .change
        case .interval: return .interval
        case .final: return .final
        case .clockProbe: return .clock_probe
        }
    }

    /// Decodes a record, or says why it cannot be used. An `interval` (every driver, every
    /// second) is read by `IntervalReading`; the rest by Foundation's decoder, whose `type` and
    /// `v` come from the same parse as the body (a parse of their own was a tenth of decoding).
    public static func decode(_ record: BusRecord) -> Result<BusMessage, MessageError> {
        let message: BusMessage
        // Intervals travel on `metrics` only: other topics' messages (a test's config among them)
        // are not read twice.
        switch record.topic == .metrics ? IntervalReading.read(record.payload) : .notThisReader(failure: nil) {
        case .interval(let interval): message = .interval(interval)
        case .malformed(let failure): return .failure(.malformed(record, reason: "interval: \(failure)"))
        case .notThisReader(let readerFailure):
            switch decodeAnyType(record) {
            case .success(.interval) where readerFailure != nil:
                // Refused by the reader before it knew the type: an interval is held to it whatever its keys' order.
                return .failure(.malformed(record, reason: "interval: \(readerFailure!)"))
            case .success(let decoded): message = decoded
            case .failure(let error): return .failure(error)
            }
        }
        do { try message.validate() } catch {
            return .failure(.malformed(record, reason: "\(message.kind.rawValue) from \(message.key ?? "?"): \(error)"))
        }
        return .success(message)
    }

    /// Foundation's decoder, for every type (`interval` when `IntervalReading` leaves it).
    private static func decodeAnyType(_ record: BusRecord) -> Result<BusMessage, MessageError> {
        do {
            return .success(try JSONDecoder().decode(Envelope.self, from: Data(record.payload)).message)
        } catch let problem as EnvelopeProblem {
            switch problem {
            case .newerVersion(let v): return .failure(.newerVersion(record, v: v))
            case .unknownType(let type): return .failure(.unknownType(record, type: type))
            case .body(let type, let error): return .failure(.malformed(record, reason: "\(type): \(error)"))
            }
        } catch {
            return .failure(.malformed(record, reason: "not a JSON object with \"type\" and \"v\""))
        }
    }

    /// Why a message's envelope let it go no further; any other error is a missing or mistyped
    /// `type` or `v`, or not JSON at all.
    private enum EnvelopeProblem: Error {
        case newerVersion(Int)
        case unknownType(String)
        case body(type: String, Error)
    }

    /// `type` and `v` first: a newer version is never read as this one's body.
    private struct Envelope: Decodable {
        let message: BusMessage

        private enum CodingKeys: String, CodingKey { case type, v }

        init(from decoder: Decoder) throws {
            let envelope = try decoder.container(keyedBy: CodingKeys.self)
            let type = try envelope.decode(String.self, forKey: .type)
            let v = try envelope.decode(Int.self, forKey: .v)
            guard v <= busMessageVersion else { throw EnvelopeProblem.newerVersion(v) }
            guard let kind = BusMessageKind(rawValue: type) else { throw EnvelopeProblem.unknownType(type) }
            do { message = try BusMessage.decodeBody(kind, decoder) } catch { throw EnvelopeProblem.body(type: type, error) }
        }
    }

    private static func decodeBody(_ kind: BusMessageKind, _ decoder: Decoder) throws -> BusMessage {
        switch kind {
        case .register: return .register(try RegisterMessage(from: decoder))
        case .heartbeat: return .heartbeat(try HeartbeatMessage(from: decoder))
        case .test_config: return .testConfig(try TestConfigMessage(from: decoder))
        case .trigger: return .trigger(try TriggerMessage(from: decoder))
        case .stop: return .stop(try StopMessage(from: decoder))
        case .change: return .change(try ChangeMessage(from: decoder))
        case .interval: return .interval(try IntervalMessage(from: decoder))
        case .final: return .final(try FinalMessage(from: decoder))
        case .clock_probe: return .clockProbe(try ClockProbeMessage(from: decoder))
        }
    }
}

/// Why a record was skipped. The description names topic, partition and offset.
public enum MessageError: Error, CustomStringConvertible {
    case malformed(BusRecord, reason: String)
    case unknownType(BusRecord, type: String)
    case newerVersion(BusRecord, v: Int)

    public var description: String {
        func at(_ r: BusRecord) -> String { "\(r.topic.rawValue)[\(r.partition)]@\(r.offset)" }
        switch self {
        case .malformed(let r, let reason): return "skipped malformed message at \(at(r)): \(reason)"
        case .unknownType(let r, let type): return "skipped message of unknown type '\(type)' at \(at(r))"
        case .newerVersion(let r, let v): return "skipped message with newer schema v\(v) at \(at(r)) (this build reads v\(busMessageVersion))"
        }
    }
}

extension BusPublisher {
    /// Encodes and queues a message on its topic with its key.
    public func publish(_ message: BusMessage) throws(BusError) {
        try publish(message.topic, key: message.key, payload: message.encoded())
    }
}

extension BusSubscription {
    /// Polls and decodes; records that cannot be used are reported to `skipped` (each once, with
    /// its offset) and left out.
    public func pollMessages(timeoutMs: Int, skipped: (MessageError) -> Void = logSkipped) throws(BusError) -> [BusMessage] {
        try poll(timeoutMs: timeoutMs).compactMap { record in
            switch BusMessage.decode(record) {
            case .success(let m): return m
            case .failure(let error): skipped(error); return nil
            }
        }
    }
}

private let busLog = Logger(label: "stampede.bus")

/// Default report for skipped records: a warning each.
public func logSkipped(_ error: MessageError) {
    busLog.warning("\(error)")
}
