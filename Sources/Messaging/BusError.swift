import CRdKafka

/// Errors from the message bus, typed and with librdkafka's own words where it gave them.
public enum BusError: Error, CustomStringConvertible, Equatable {
    /// A configuration property librdkafka refused (name, value, reason).
    case configuration(key: String, reason: String)
    /// Creating a client failed.
    case client(String)
    /// The local producer queue is full: the broker has been unreachable for a while.
    case queueFull(topic: String)
    /// A Kafka call failed: which call, the error name and its description.
    case kafka(operation: String, code: Int32, message: String)
    /// The bus was closed.
    case closed

    static func from(_ operation: String, _ err: rd_kafka_resp_err_t) -> BusError {
        .kafka(operation: operation, code: err.rawValue, message: String(cString: rd_kafka_err2str(err)))
    }

    public var description: String {
        switch self {
        case .configuration(let key, let reason): return "Kafka configuration \(key): \(reason)"
        case .client(let why): return "Kafka client: \(why)"
        case .queueFull(let topic): return "Kafka producer queue full (topic \(topic)): is the broker reachable?"
        case .kafka(let op, let code, let message): return "Kafka \(op): \(message) (\(code))"
        case .closed: return "the bus is closed"
        }
    }
}

/// librdkafka's runtime version (e.g. "2.8.0").
public var librdkafkaRuntimeVersion: String { String(cString: rd_kafka_version_str()) }
