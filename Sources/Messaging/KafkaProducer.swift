import CRdKafka
import Foundation
import Logging
import Synchronization

/// Delivery outcomes, counted by librdkafka's delivery-report callback, and the messages rescued
/// from a client that is being replaced.
final class DeliveryCounters: Sendable {
    let delivered = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let lastError = Mutex<String?>(nil)
    /// While set, purged messages are kept (to be produced again) instead of counted as failed.
    let salvaging = Atomic<Bool>(false)
    let salvaged = Mutex<[SalvagedMessage]>([])
    /// Told when every broker connection is down.
    let lossSignal: BrokerLossSignal?

    init(lossSignal: BrokerLossSignal?) { self.lossSignal = lossSignal }
}

struct SalvagedMessage: Sendable {
    /// Produce order (the client's sequence number): purged messages come back out of order.
    let sequence: UInt
    let topic: String
    let key: [UInt8]?
    let payload: [UInt8]
}

/// An idempotent producer (acks=all, retries, no duplicates on retry). `publish` only enqueues;
/// a poller thread serves delivery reports, so no caller ever waits on the broker.
///
/// Broker loss: `replaceClient()` (called by the topic keeper when every broker connection is
/// down, or topics went missing) purges the undelivered messages from the current librdkafka
/// client, destroys it, and produces them again, in order, through a fresh one (librdkafka 2.8
/// must not see cached topics come back empty or under new ids; see `KafkaTopicKeeper`).
public final class KafkaProducer: BusPublisher, @unchecked Sendable {
    // @unchecked: the client is guarded by `slot`; librdkafka handles are thread-safe.
    private let slot: ProducerSlot
    private let names: TopicNames
    private let counters: DeliveryCounters
    private let poller = PollerState()
    private let makeClient: @Sendable () throws(BusError) -> ProducerClient

    /// - Parameter lossSignal: raised when every broker connection is down (see `KafkaTopicKeeper`).
    init(brokers: KafkaConnection, topics: TopicNames, extra: [String: String] = [:], lossSignal: BrokerLossSignal? = nil) throws(BusError) {
        names = topics
        counters = DeliveryCounters(lossSignal: lossSignal)
        var properties = brokers.clientProperties([
            "enable.idempotence": "true",
            "acks": "all",
            "linger.ms": "1",
            "message.timeout.ms": "300000",
            "queue.buffering.max.messages": "1000000",
            "reconnect.backoff.max.ms": "1000",
            // Topics are created by us, with their partition counts; and an old client that
            // auto-created a lost topic would see it come back with a new id (see above).
            "allow.auto.create.topics": "false",
            "socket.keepalive.enable": "true",
        ])
        for (k, v) in extra { properties[k] = v }
        let counters = self.counters
        let settings = properties
        makeClient = { () throws(BusError) -> ProducerClient in try ProducerClient(properties: settings, counters: counters) }
        slot = ProducerSlot(try makeClient())
        let thread = Thread { [poller, slot, counters, makeClient] in
            // Serves delivery reports (the callback only touches `counters`), and replaces the
            // client when asked: only this thread polls, so the old one is never polled after
            // it is destroyed.
            while !poller.closed.load(ordering: .relaxed) {
                if poller.replaceRequested.exchange(false, ordering: .relaxed) {
                    Self.replace(slot, counters: counters, makeClient: makeClient)
                    poller.replaced.signal()
                    continue
                }
                let rk = slot.client.withLock { UncheckedBox($0.rk) }
                rd_kafka_poll(rk.value, 100)
            }
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
    public var outstanding: Int { slot.client.withLock { Int(rd_kafka_outq_len($0.rk)) } }

    public func publish(_ topic: Topic, key: String?, payload: [UInt8]) throws(BusError) {
        guard !poller.closed.load(ordering: .relaxed) else { throw .closed }
        let name = names.name(topic)
        let err: rd_kafka_resp_err_t? = slot.client.withLock { client in
            client.produce(topic: name, key: key.map { Array($0.utf8) }, payload: payload)
        }
        guard let err else { return }
        if err == RD_KAFKA_RESP_ERR__QUEUE_FULL { throw .queueFull(topic: name) }
        throw .from("produce to \(name)", err)
    }

    /// Replaces the librdkafka client, keeping every undelivered message (see the type's
    /// comment). Blocks until done; publishers wait meanwhile.
    func replaceClient() {
        guard !poller.closed.load(ordering: .relaxed) else { return }
        poller.replaceRequested.store(true, ordering: .relaxed)
        // Bounded: a producer closed meanwhile has no poller left to answer.
        _ = poller.replaced.wait(timeout: .now() + .seconds(30))
    }

    /// Runs on the poller thread.
    private static func replace(_ slot: ProducerSlot, counters: DeliveryCounters,
                                makeClient: () throws(BusError) -> ProducerClient) {
        // Publishers wait while the messages move (so none overtakes them); the old client is
        // destroyed after, outside the lock: its threads may sit in a reconnect backoff.
        let old: ProducerClient? = slot.client.withLock { current -> ProducerClient? in
            counters.salvaging.store(true, ordering: .relaxed)
            rd_kafka_purge(current.rk, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            // Purged messages come back through the delivery-report callback.
            let deadline = Date().addingTimeInterval(5)
            while rd_kafka_outq_len(current.rk) > 0 && Date() < deadline { rd_kafka_poll(current.rk, 50) }
            counters.salvaging.store(false, ordering: .relaxed)
            let fresh: ProducerClient
            do { fresh = try makeClient() } catch {
                kafkaLog.error("Kafka producer could not be re-created; keeping the old one", metadata: ["error": "\(error)"])
                return nil
            }
            let replaced = current
            current = fresh
            let salvaged = counters.salvaged.withLock { list in defer { list.removeAll() }; return list }
            for m in salvaged.sorted(by: { $0.sequence < $1.sequence }) {
                if let err = current.produce(topic: m.topic, key: m.key, payload: m.payload) {
                    counters.failed.wrappingAdd(1, ordering: .relaxed)
                    counters.lastError.withLock { $0 = String(cString: rd_kafka_err2str(err)) }
                }
            }
            return replaced
        }
        _ = old
    }

    public func flush(timeoutMs: Int) -> Bool {
        slot.client.withLock { rd_kafka_flush($0.rk, Int32(timeoutMs)) == RD_KAFKA_RESP_ERR_NO_ERROR }
    }

    public func close() {
        guard !poller.closed.exchange(true, ordering: .relaxed) else { return }
        poller.done.wait()
    }

    deinit {
        close()
        slot.client.withLock { _ = rd_kafka_flush($0.rk, 5_000) }
    }
}

/// One librdkafka producer and its topic handles; destroyed with the value.
/// @unchecked Sendable: used only under its owner's mutex (librdkafka handles are thread-safe).
final class ProducerClient: @unchecked Sendable {
    let rk: OpaquePointer
    private var topicHandles: [String: OpaquePointer] = [:]
    /// Numbers messages in produce order (carried as librdkafka's per-message opaque).
    private var sequence: UInt = 0

    init(properties: [String: String], counters: DeliveryCounters) throws(BusError) {
        let conf = try KafkaConfiguration(properties)
        rd_kafka_conf_set_dr_msg_cb(conf.pointer) { _, message, opaque in
            guard let message, let opaque else { return }
            let counters = Unmanaged<DeliveryCounters>.fromOpaque(opaque).takeUnretainedValue()
            let m = message.pointee
            if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                counters.delivered.wrappingAdd(1, ordering: .relaxed)
            } else if counters.salvaging.load(ordering: .relaxed),
                      m.err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m.err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT, let rkt = m.rkt {
                let payload = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
                let key = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
                let kept = SalvagedMessage(sequence: UInt(bitPattern: m._private), topic: String(cString: rd_kafka_topic_name(rkt)),
                                           key: key, payload: payload)
                counters.salvaged.withLock { $0.append(kept) }
            } else {
                counters.failed.wrappingAdd(1, ordering: .relaxed)
                let text = String(cString: rd_kafka_err2str(m.err))
                counters.lastError.withLock { $0 = text }
            }
        }
        rd_kafka_conf_set_error_cb(conf.pointer) { _, err, _, opaque in
            guard err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue, let opaque else { return }
            Unmanaged<DeliveryCounters>.fromOpaque(opaque).takeUnretainedValue().lossSignal?.raise()
        }
        rd_kafka_conf_set_opaque(conf.pointer, Unmanaged.passUnretained(counters).toOpaque())
        rk = try conf.makeClient(RD_KAFKA_PRODUCER)
    }

    /// Queues one message; nil on success, else librdkafka's error.
    func produce(topic: String, key: [UInt8]?, payload: [UInt8]) -> rd_kafka_resp_err_t? {
        let rkt: OpaquePointer
        if let h = topicHandles[topic] {
            rkt = h
        } else {
            guard let h = rd_kafka_topic_new(rk, topic, nil) else { return rd_kafka_last_error() }
            topicHandles[topic] = h
            rkt = h
        }
        let keyBytes = key ?? []
        sequence += 1
        let opaque = UnsafeMutableRawPointer(bitPattern: sequence)
        let rc = payload.withUnsafeBytes { p in
            keyBytes.withUnsafeBytes { k in
                rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                 UnsafeMutableRawPointer(mutating: p.baseAddress), p.count,
                                 key == nil ? nil : k.baseAddress, key == nil ? 0 : k.count, opaque)
            }
        }
        return rc == 0 ? nil : rd_kafka_last_error()
    }

    deinit {
        for (_, h) in topicHandles { rd_kafka_topic_destroy(h) }
        rd_kafka_destroy(rk)
    }
}

/// The current client, shared with the poller thread.
final class ProducerSlot: @unchecked Sendable {
    let client: Mutex<ProducerClient>
    init(_ client: sending ProducerClient) { self.client = Mutex(client) }
}

/// The poller thread's stop flag, its "I have stopped" signal, and client replacement requests.
final class PollerState: Sendable {
    let closed = Atomic<Bool>(false)
    let done = DispatchSemaphore(value: 0)
    let replaceRequested = Atomic<Bool>(false)
    let replaced = DispatchSemaphore(value: 0)
}

/// Carries a pointer into a thread's closure (librdkafka handles are thread-safe).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
