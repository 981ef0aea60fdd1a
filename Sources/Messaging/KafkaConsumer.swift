import CLinux
import CRdKafka
import Foundation

/// Reads every partition of a set of topics by direct assignment: no consumer group, so no
/// rebalance to wait for (Tansu's group join alone takes ~20 s), and broadcast topics reach every
/// subscriber. Starting at the end resolves the high watermarks first, so nothing published after
/// the subscription is created can be missed.
///
/// Readiness: librdkafka writes to an eventfd when the consumer queue becomes non-empty
/// (`rd_kafka_queue_io_event_enable`), so a reactor can watch `readinessFD` and drain with
/// `poll(timeoutMs: 0)` without ever blocking on Kafka.
///
/// Thread-safety: use from one thread at a time.
public final class KafkaConsumer: BusSubscription {
    private let rk: OpaquePointer
    private let queue: OpaquePointer
    private let names: TopicNames
    public let readinessFD: Int32
    private var isClosed = false
    /// Logged once per (topic, partition, offset) kind of problem, not per message.
    private var reportedErrors: Set<Int32> = []

    init(brokers: String, topics: TopicNames, subscribe wanted: [Topic], from start: StartPosition,
         extra: [String: String] = [:]) throws(BusError) {
        names = topics
        var properties = [
            "bootstrap.servers": brokers,
            // Required to create the consumer queue; never joined (we assign, not subscribe).
            "group.id": "stampede-\(UUID().uuidString)",
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "enable.partition.eof": "false",
            "fetch.wait.max.ms": "10",
            "socket.keepalive.enable": "true",
        ]
        for (k, v) in extra { properties[k] = v }
        let conf = try KafkaConfiguration(properties)
        rk = try conf.makeClient(RD_KAFKA_CONSUMER)
        rd_kafka_poll_set_consumer(rk)
        guard let q = rd_kafka_queue_get_consumer(rk) else {
            rd_kafka_destroy(rk)
            throw .client("no consumer queue")
        }
        queue = q
        readinessFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        var one: UInt64 = 1
        withUnsafeBytes(of: &one) { rd_kafka_queue_io_event_enable(queue, readinessFD, $0.baseAddress, 8) }

        do throws(BusError) {
            let list = rd_kafka_topic_partition_list_new(8)
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for topic in wanted {
                let name = names.name(topic)
                for partition in try KafkaAdmin.partitions(rk, topic: name, timeoutMs: 10_000) {
                    var offset = Int64(RD_KAFKA_OFFSET_BEGINNING)
                    if case .end = start {
                        var low: Int64 = 0, high: Int64 = 0
                        let err = rd_kafka_query_watermark_offsets(rk, name, partition, &low, &high, 10_000)
                        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw BusError.from("watermarks \(name)/\(partition)", err) }
                        offset = high
                    }
                    rd_kafka_topic_partition_list_add(list, name, partition)?.pointee.offset = offset
                }
            }
            let err = rd_kafka_assign(rk, list)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw BusError.from("assign", err) }
        } catch {
            close()
            throw error
        }
    }

    public func poll(timeoutMs: Int) throws(BusError) -> [BusRecord] {
        guard !isClosed else { throw .closed }
        var value: UInt64 = 0
        _ = read(readinessFD, &value, 8)  // re-armed by librdkafka when the queue fills again
        var records: [BusRecord] = []
        var wait = Int32(timeoutMs)
        while let message = rd_kafka_consumer_poll(rk, wait) {
            defer { rd_kafka_message_destroy(message) }
            wait = 0
            let m = message.pointee
            guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                if m.err != RD_KAFKA_RESP_ERR__PARTITION_EOF && reportedErrors.insert(m.err.rawValue).inserted {
                    FileHandle.standardError.write(Data("stampede: Kafka consumer: \(String(cString: rd_kafka_err2str(m.err)))\n".utf8))
                }
                continue
            }
            guard let rkt = m.rkt, let topic = names.topic(named: String(cString: rd_kafka_topic_name(rkt))) else { continue }
            let payload = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
            let key = m.key.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: m.key_len), as: UTF8.self) }
            records.append(BusRecord(topic: topic, partition: m.partition, offset: m.offset, key: key, payload: payload))
            if records.count >= 10_000 { break }
        }
        return records
    }

    public func close() {
        guard !isClosed else { return }
        isClosed = true
        rd_kafka_queue_io_event_enable(queue, -1, nil, 0)
        rd_kafka_queue_destroy(queue)
        _ = rd_kafka_consumer_close(rk)
        rd_kafka_destroy(rk)
        Glibc.close(readinessFD)
    }

    deinit { close() }
}
