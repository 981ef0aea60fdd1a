import CRdKafka

/// Topic administration through an existing client handle.
enum KafkaAdmin {
    /// Creates every topic of `names` that does not exist yet; "already exists" is success.
    static func createTopics(_ rk: OpaquePointer, names: TopicNames, timeoutMs: Int) throws(BusError) {
        var error = [CChar](repeating: 0, count: 512)
        var newTopics: [OpaquePointer?] = []
        defer { for t in newTopics { rd_kafka_NewTopic_destroy(t) } }
        for topic in Topic.allCases {
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

    /// Names of the topics of `names` the broker does not know; nil when the broker cannot be asked.
    static func missingTopics(_ rk: OpaquePointer, names: TopicNames, timeoutMs: Int) -> [String]? {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 1, nil, &metadata, Int32(timeoutMs))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let md = metadata else { return nil }
        defer { rd_kafka_metadata_destroy(md) }
        var present: Set<String> = []
        for i in 0..<Int(md.pointee.topic_cnt) where md.pointee.topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR {
            present.insert(String(cString: md.pointee.topics[i].topic))
        }
        return Topic.allCases.map(names.name).filter { !present.contains($0) }
    }
}
