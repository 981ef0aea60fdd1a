import CRdKafka
import Foundation
import Synchronization

/// Delivery outcomes, counted by librdkafka's delivery-report callback.
final class DeliveryCounters: Sendable {
    let delivered = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let lastError = Mutex<String?>(nil)
}

/// An idempotent producer (acks=all, retries, no duplicates on retry). `publish` only enqueues;
/// a poller thread serves delivery reports, so no caller ever waits on the broker.
public final class KafkaProducer: BusPublisher, @unchecked Sendable {
    // @unchecked: `rk` is thread-safe per librdkafka's documentation; topic handles are guarded.
    private let rk: OpaquePointer
    private let names: TopicNames
    private let counters = DeliveryCounters()
    private let topicHandles = Mutex<[Topic: OpaquePointer]>([:])
    private let poller = PollerState()

    init(brokers: String, topics: TopicNames, extra: [String: String] = [:]) throws(BusError) {
        names = topics
        var properties = [
            "bootstrap.servers": brokers,
            "enable.idempotence": "true",
            "acks": "all",
            "linger.ms": "1",
            "message.timeout.ms": "300000",
            "queue.buffering.max.messages": "1000000",
            "socket.keepalive.enable": "true",
        ]
        for (k, v) in extra { properties[k] = v }
        let conf = try KafkaConfiguration(properties)
        rd_kafka_conf_set_dr_msg_cb(conf.pointer) { _, message, opaque in
            guard let message, let opaque else { return }
            let counters = Unmanaged<DeliveryCounters>.fromOpaque(opaque).takeUnretainedValue()
            if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                counters.delivered.wrappingAdd(1, ordering: .relaxed)
            } else {
                counters.failed.wrappingAdd(1, ordering: .relaxed)
                let text = String(cString: rd_kafka_err2str(message.pointee.err))
                counters.lastError.withLock { $0 = text }
            }
        }
        rd_kafka_conf_set_opaque(conf.pointer, Unmanaged.passUnretained(counters).toOpaque())
        rk = try conf.makeClient(RD_KAFKA_PRODUCER)
        let handle = UncheckedBox(rk)
        let thread = Thread { [poller] in
            // Serves delivery reports; the callback only touches `counters`.
            while !poller.closed.load(ordering: .relaxed) { rd_kafka_poll(handle.value, 100) }
            poller.done.signal()
        }
        thread.name = "stampede-kafka-producer"
        thread.start()
    }

    public var delivered: Int { counters.delivered.load(ordering: .relaxed) }
    public var failed: Int { counters.failed.load(ordering: .relaxed) }
    /// The last delivery failure, in librdkafka's words.
    public var lastDeliveryError: String? { counters.lastError.withLock { $0 } }

    /// Messages queued but not yet acknowledged.
    public var outstanding: Int { Int(rd_kafka_outq_len(rk)) }

    public func publish(_ topic: Topic, key: String?, payload: [UInt8]) throws(BusError) {
        guard !poller.closed.load(ordering: .relaxed) else { throw .closed }
        let rkt = try handle(for: topic)
        let keyBytes = key.map { Array($0.utf8) } ?? []
        let rc = payload.withUnsafeBytes { p in
            keyBytes.withUnsafeBytes { k in
                rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                 UnsafeMutableRawPointer(mutating: p.baseAddress), p.count,
                                 key == nil ? nil : k.baseAddress, key == nil ? 0 : k.count, nil)
            }
        }
        guard rc != 0 else { return }
        let err = rd_kafka_last_error()
        if err == RD_KAFKA_RESP_ERR__QUEUE_FULL { throw .queueFull(topic: names.name(topic)) }
        throw .from("produce to \(names.name(topic))", err)
    }

    private func handle(for topic: Topic) throws(BusError) -> OpaquePointer {
        let result: OpaquePointer? = topicHandles.withLock { handles in
            if let h = handles[topic] { return h }
            guard let h = rd_kafka_topic_new(rk, names.name(topic), nil) else { return nil }
            handles[topic] = h
            return h
        }
        guard let result else { throw .from("topic_new \(names.name(topic))", rd_kafka_last_error()) }
        return result
    }

    public func flush(timeoutMs: Int) -> Bool {
        rd_kafka_flush(rk, Int32(timeoutMs)) == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// Creates the topics that are missing (already existing ones are fine).
    func createTopics(timeoutMs: Int = 10_000) throws(BusError) {
        try KafkaAdmin.createTopics(rk, names: names, timeoutMs: timeoutMs)
    }

    public func close() {
        guard !poller.closed.exchange(true, ordering: .relaxed) else { return }
        poller.done.wait()
    }

    deinit {
        close()
        _ = rd_kafka_flush(rk, 5_000)
        for (_, h) in topicHandles.withLock({ $0 }) { rd_kafka_topic_destroy(h) }
        rd_kafka_destroy(rk)
    }
}

/// The poller thread's stop flag and its "I have stopped" signal.
final class PollerState: Sendable {
    let closed = Atomic<Bool>(false)
    let done = DispatchSemaphore(value: 0)
}

/// Carries a pointer into a thread's closure (librdkafka handles are thread-safe).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
