import CRdKafka
import Foundation

/// Topic administration through a client handle.
enum KafkaAdmin {
    /// Runs `body` with a short-lived client of its own: no metadata cached from before (see
    /// `KafkaTopicKeeper`), nothing left running after. `quiet` silences librdkafka's log lines
    /// (for checks repeated while a broker is down).
    static func withClient<T>(brokers: KafkaConnection, quiet: Bool = false,
                              _ body: (OpaquePointer) throws(BusError) -> T) throws(BusError) -> T {
        var properties = brokers.clientProperties([:])
        if quiet { properties["log_level"] = "0" }
        let rk = try KafkaConfiguration(properties).makeClient(RD_KAFKA_PRODUCER)
        defer { rd_kafka_destroy(rk) }
        return try body(rk)
    }

    /// Creates every topic of `names` that does not exist yet; "already exists" is success.
    static func createTopics(_ rk: OpaquePointer, names: TopicNames, timeoutMs: Int) throws(BusError) {
        var error = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for t in newTopics { rd_kafka_NewTopic_destroy(t) } }
        for topic in names.topics {
            guard let t = rd_kafka_NewTopic_new(names.name(topic), names.partitionCount(topic), 1, &error, error.count) else {
                throw .client(error.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
            }
            newTopics.append(t)
        }
        guard let queue = rd_kafka_queue_new(rk) else { throw .client("rd_kafka_queue_new failed") }
        defer { rd_kafka_queue_destroy(queue) }
        let options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        rd_kafka_AdminOptions_set_operation_timeout(options, Int32(timeoutMs), &error, error.count)
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(rk, buffer.baseAddress, buffer.count, options, queue)
        }
        guard let event = rd_kafka_queue_poll(queue, Int32(timeoutMs + 1_000)) else {
            throw .kafka(operation: "CreateTopics", code: -1, message: "no answer within \(timeoutMs) ms")
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .from("CreateTopics", err) }
        guard let result = rd_kafka_event_CreateTopics_result(event) else { return }
        var count = 0
        guard let topics = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for i in 0..<count {
            let topicErr = rd_kafka_topic_result_error(topics[i])
            if topicErr != RD_KAFKA_RESP_ERR_NO_ERROR && topicErr != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                let name = String(cString: rd_kafka_topic_result_name(topics[i]))
                throw .from("CreateTopics \(name)", topicErr)
            }
        }
    }

    /// Partition ids of `topic`, from the broker's metadata.
    static func partitions(_ rk: OpaquePointer, topic: String, timeoutMs: Int) throws(BusError) -> [Int32] {
        guard let rkt = rd_kafka_topic_new(rk, topic, nil) else { throw .from("topic_new \(topic)", rd_kafka_last_error()) }
        defer { rd_kafka_topic_destroy(rkt) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 0, rkt, &metadata, Int32(timeoutMs))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let md = metadata else { throw .from("metadata \(topic)", err) }
        defer { rd_kafka_metadata_destroy(md) }
        guard md.pointee.topic_cnt > 0 else { throw .kafka(operation: "metadata \(topic)", code: -1, message: "topic unknown") }
        let t = md.pointee.topics[0]
        guard t.err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw .from("metadata \(topic)", t.err) }
        return (0..<Int(t.partition_cnt)).map { t.partitions[$0].id }
    }

    /// Each topic of `names` with its topic id (base64), or nil where the broker does not know
    /// it; nil as a whole when the broker cannot be asked. Ids tell a re-created topic (a new log)
    /// from the one we were reading.
    static func topicIDs(_ rk: OpaquePointer, names: TopicNames, timeoutMs: Int) -> [String: String?]? {
        let wanted = names.topics.map(names.name)
        let cStrings = wanted.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        let collection = cStrings.map { UnsafePointer($0) }.withUnsafeBufferPointer {
            rd_kafka_TopicCollection_of_topic_names(UnsafeMutablePointer(mutating: $0.baseAddress), $0.count)
        }
        defer { rd_kafka_TopicCollection_destroy(collection) }
        guard let queue = rd_kafka_queue_new(rk) else { return nil }
        defer { rd_kafka_queue_destroy(queue) }
        rd_kafka_DescribeTopics(rk, collection, nil, queue)
        guard let event = rd_kafka_queue_poll(queue, Int32(timeoutMs)) else { return nil }
        defer { rd_kafka_event_destroy(event) }
        guard rd_kafka_event_error(event) == RD_KAFKA_RESP_ERR_NO_ERROR,
              let result = rd_kafka_event_DescribeTopics_result(event) else { return nil }
        var count = 0
        guard let topics = rd_kafka_DescribeTopics_result_topics(result, &count) else { return nil }
        var ids: [String: String?] = Dictionary(uniqueKeysWithValues: wanted.map { ($0, nil) })
        for i in 0..<count {
            guard let t = topics[i] else { continue }
            let name = String(cString: rd_kafka_TopicDescription_name(t))
            let error = rd_kafka_TopicDescription_error(t)
            guard error == nil || rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  let id = rd_kafka_TopicDescription_topic_id(t) else { continue }
            ids[name] = String(cString: rd_kafka_Uuid_base64str(id))
        }
        return ids
    }
}
