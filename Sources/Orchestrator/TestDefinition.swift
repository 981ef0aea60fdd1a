import Foundation
import HTTP1
import LoadGenerator
import Messaging

/// A test as the orchestrator holds it: validated from a TestConfig body (the seed's fields
/// `test_id`, `test_type`, `test_message_delay`, `message_count_per_driver`, and the SPEC's
/// additions).
public struct TestDefinition: Sendable {
    public var testID: String
    public var mode: LoadMode
    public var target: TargetURL
    public var connections: Int
    public var requestsPerDriver: Int?
    public var durationS: Double?
    public var delayMs: Double?
    /// Total requests per second over all drivers (tsunami).
    public var rate: Double?
    public var method: String
    public var headers: [String: String]
    public var body: String?
    public var timeoutMs: Int
    /// How many drivers to use; nil: every idle one.
    public var drivers: Int?
    public var thresholds: [Threshold]
    /// The request body as received, echoed in GET /tests/{id}.
    public var original: JSONValue

    static let knownFields: Set<String> = ["test_id", "test_type", "test_message_delay", "message_count_per_driver", "target",
                                           "connections", "duration_s", "rate", "method", "headers", "body", "timeout_ms",
                                           "drivers", "thresholds"]

    /// Validates a TestConfig body.
    /// - Throws: `FieldError` naming the first field that is wrong (or "body" for broken JSON).
    public init(json bytes: [UInt8], generatedID: () -> String) throws(FieldError) {
        guard let value = JSONValue.parse(bytes) else { throw FieldError("body", "not valid JSON") }
        guard case .object(let object) = value else { throw FieldError("body", "must be a JSON object") }
        if let unknown = object.keys.sorted().first(where: { !Self.knownFields.contains($0) }) {
            throw FieldError(unknown, "unknown field (known: \(Self.knownFields.sorted().joined(separator: ", ")))")
        }
        let r = FieldReader(object: object)
        original = value
        testID = try r.string("test_id") ?? generatedID()
        guard (1...64).contains(testID.count),
              testID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }), testID.first != "." else {
            throw FieldError("test_id", "must be 1-64 characters of A-Z a-z 0-9 - _ . (not starting with .)")
        }
        switch try r.string("test_type")?.uppercased() {
        case nil, "AVALANCHE"?: mode = .avalanche
        case "TSUNAMI"?: mode = .tsunami
        case let other?: throw FieldError("test_type", "must be AVALANCHE or TSUNAMI, got '\(other)'")
        }
        guard let targetText = try r.string("target") else { throw FieldError("target", "is required (an http or https URL)") }
        do { target = try TargetURL(parsing: targetText) } catch { throw FieldError("target", error.reason) }
        connections = try r.integer("connections", in: 1...100_000) ?? 10
        requestsPerDriver = try r.integer("message_count_per_driver", in: 1...1_000_000_000)
        durationS = try r.number("duration_s", in: 0.001...86_400)
        guard (requestsPerDriver == nil) != (durationS == nil) else {
            throw FieldError(requestsPerDriver == nil ? "message_count_per_driver" : "duration_s",
                             "give exactly one of message_count_per_driver and duration_s")
        }
        let delay = try r.number("test_message_delay", in: 0...3_600_000)
        rate = try r.number("rate", in: 0.001...10_000_000)
        if mode == .avalanche {
            if let delay, delay > 0 { throw FieldError("test_message_delay", "only applies to test_type TSUNAMI") }
            if rate != nil { throw FieldError("rate", "only applies to test_type TSUNAMI") }
            delayMs = nil
        } else {
            if delay != nil && rate != nil { throw FieldError("rate", "give test_message_delay or rate, not both") }
            if rate == nil && (delay ?? 0) <= 0 { throw FieldError("test_message_delay", "TSUNAMI needs test_message_delay > 0 or rate") }
            delayMs = rate == nil ? delay : nil
        }
        method = (try r.string("method") ?? "GET").uppercased()
        guard !method.isEmpty, method.count <= 32, method.allSatisfy({ $0.isLetter && $0.isASCII }) else {
            throw FieldError("method", "must be an HTTP method such as GET or POST")
        }
        var headers: [String: String] = [:]
        for (name, value) in try r.object("headers") ?? [:] {
            guard case .string(let s) = value else { throw FieldError("headers", "value of '\(name)' must be a string") }
            headers[name] = s
        }
        self.headers = headers
        body = try r.string("body")
        do {
            _ = try HTTPRequestEncoder.encode(method: method, url: target, headers: headers.map { ($0.key, $0.value) })
        } catch { throw FieldError("headers", error.description) }
        timeoutMs = try r.integer("timeout_ms", in: 1...3_600_000) ?? 5_000
        drivers = try r.integer("drivers", in: 1...10_000)
        var thresholds: [Threshold] = []
        for (name, value) in (try r.object("thresholds") ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard case .number(let n) = value else { throw FieldError("thresholds", "'\(name)' must be a number") }
            do { thresholds.append(try Threshold(parsing: "\(name)=\(n)")) } catch { throw FieldError("thresholds", error.reason) }
        }
        self.thresholds = thresholds
    }

    /// One driver's share: connections and count per driver as given, the total rate split evenly.
    func spec(driverCount: Int) -> TestSpec {
        TestSpec(target: target.description, mode: mode, connections: connections, requests: requestsPerDriver,
                 duration_s: durationS, delay_ms: delayMs, rate: rate.map { $0 / Double(driverCount) },
                 timeout_ms: timeoutMs, method: method, headers: headers, body: body)
    }
}
