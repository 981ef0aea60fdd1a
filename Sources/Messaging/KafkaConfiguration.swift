import CRdKafka
import Logging

/// librdkafka's own log lines, routed into the process's logging (it would print to stderr).
let kafkaLog = Logger(label: "stampede.kafka")

/// Owns an rd_kafka_conf_t until a client takes it: `rd_kafka_new` takes ownership on success,
/// which `consume()` expresses by ending this value's life (it is ~Copyable, so the pointer is
/// freed exactly once, either here or by librdkafka).
struct KafkaConfiguration: ~Copyable {
    private var conf: OpaquePointer?

    init(_ properties: [String: String]) throws(BusError) {
        conf = rd_kafka_conf_new()
        rd_kafka_conf_set_log_cb(conf) { _, level, facility, message in
            // syslog levels: 0 emerg … 7 debug.
            let mapped: Logger.Level = switch level { case ...2: .critical; case 3: .error; case 4: .warning; case 5: .notice; case 6: .info; default: .debug }
            kafkaLog.log(level: mapped, "\(message.map { String(cString: $0) } ?? "")",
                         metadata: ["facility": "\(facility.map { String(cString: $0) } ?? "")"])
        }
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) { try set(key, value) }
    }

    mutating func set(_ key: String, _ value: String) throws(BusError) {
        var error = [CChar](repeating: 0, count: 512)
        let rc = rd_kafka_conf_set(conf, key, value, &error, error.count)
        guard rc == RD_KAFKA_CONF_OK else {
            throw .configuration(key: key, reason: error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
    }

    /// The raw pointer for calls that configure callbacks before the client exists.
    var pointer: OpaquePointer? { conf }

    /// Creates a client of `type`, handing the configuration over.
    consuming func makeClient(_ type: rd_kafka_type_t) throws(BusError) -> OpaquePointer {
        var error = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(type, conf, &error, error.count) else {
            throw .client(error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        conf = nil  // librdkafka owns it now
        return rk
    }

    deinit {
        if let conf { rd_kafka_conf_destroy(conf) }
    }
}
