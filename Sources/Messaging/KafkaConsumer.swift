import CLinux
import CRdKafka
import Foundation
import Logging
import Synchronization

/// Reads every partition of a set of topics by direct assignment: no consumer group, so no
/// rebalance to wait for (Tansu's group join alone takes ~20 s), and broadcast topics reach every
/// subscriber. Starting at the end resolves the high watermarks first, so nothing published after
/// the subscription is created can be missed.
///
/// Readiness: librdkafka writes to an eventfd when the consumer queue becomes non-empty
/// (`rd_kafka_queue_io_event_enable`), so a reactor can watch `readinessFD` and drain with
/// `poll(timeoutMs: 0)` without ever blocking on Kafka.
///
/// Broker loss: when the broker goes away the topic keeper `suspend`s this consumer (its
/// librdkafka client is destroyed: librdkafka 2.8 corrupts its metadata cache and crashes when a
/// broker comes back without the topics it had cached, librdkafka #4964, #4898, whose maintainers
/// advise restarting the clients) and `resume`s it with a fresh client once the topics exist:
/// from the next offset it would have read, or from the beginning of a topic that was re-created
/// (a new topic id) or whose log no longer holds that offset.
///
/// Thread-safety: `poll` from one thread at a time; `suspend`/`resume` from the keeper thread.
public final class KafkaConsumer: BusSubscription, @unchecked Sendable {
    private let client: Mutex<ConsumerClient?>
    private let brokers: KafkaConnection
    private let names: TopicNames
    private let wanted: [Topic]
    private let extra: [String: String]
    public let readinessFD: Int32
    private let isClosed = Atomic<Bool>(false)
    /// Logged once per kind of problem, not per message.
    private var reportedErrors: Set<Int32> = []
    /// The next offset to read, per topic name and partition (where to resume after a suspend).
    private let positions: Mutex<[String: [Int32: Int64]]>
    /// Held by `resume` and `close`, which both touch `readinessFD`'s life.
    private let lifecycle = NSLock()
    /// Records skipped by a fetch and read again by seeking back (see `OffsetGaps`).
    private let gapsReRead = Atomic<Int>(0)
    /// Offsets given up on: still missing after `OffsetGaps.patienceNs` (logged each time).
    private let offsetsLost = Atomic<Int>(0)
    /// How many times a fetch skipped offsets and they were read again (the broker's fault; counted).
    public var skippedFetchesReRead: Int { gapsReRead.load(ordering: .relaxed) }
    /// Offsets never read: the broker no longer held them (each case logged as a warning).
    public var offsetsGivenUp: Int { offsetsLost.load(ordering: .relaxed) }

    init(brokers: KafkaConnection, topics: TopicNames, subscribe wanted: [Topic], from start: StartPosition,
         extra: [String: String] = [:]) throws(BusError) {
        self.brokers = brokers
        names = topics
        self.wanted = wanted
        self.extra = extra
        readinessFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        do throws(BusError) {
            let first = try ConsumerClient(brokers: brokers, names: topics, wanted: wanted, from: start,
                                           resumeAt: [:], readinessFD: readinessFD, extra: extra)
            positions = Mutex(first.startPositions)
            client = Mutex(first)
        } catch {
            Glibc.close(readinessFD)
            throw error
        }
    }

    public func poll(timeoutMs: Int) throws(BusError) -> [BusRecord] {
        guard !isClosed.load(ordering: .relaxed) else { throw .closed }
        var value: UInt64 = 0
        _ = read(readinessFD, &value, 8)  // re-armed by librdkafka when the queue fills again
        var records: [BusRecord] = []
        var errors: [rd_kafka_resp_err_t] = []
        var lost: [(OffsetGaps.PartitionKey, from: Int64, count: Int64)] = []
        var rewound: [(OffsetGaps.PartitionKey, expected: Int64, got: Int64)] = []
        var endedEarly = false
        let suspended = client.withLock { client -> Bool in
            guard let client else { return true }
            var wait = Int32(timeoutMs)
            while let message = rd_kafka_consumer_poll(client.rk, wait) {
                defer { rd_kafka_message_destroy(message) }
                wait = 0
                let m = message.pointee
                guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    if m.err != RD_KAFKA_RESP_ERR__PARTITION_EOF { errors.append(m.err) }
                    continue
                }
                guard let rkt = m.rkt else { continue }
                let name = String(cString: rd_kafka_topic_name(rkt))
                guard let topic = names.topic(named: name) else { continue }
                let partition = OffsetGaps.PartitionKey(topic: name, partition: m.partition)
                switch client.gaps.admit(partition, offset: m.offset, nowNs: monotonicNs()) {
                case .deliver: break
                case .deliverAfterRewind(let expected): rewound.append((partition, expected, m.offset))
                case .seekBack(let offset):
                    // The seek discards what librdkafka fetched past it; what comes next is
                    // read from `offset`, so this poll ends here.
                    client.seek(partition, to: offset)
                    gapsReRead.add(1, ordering: .relaxed)
                    endedEarly = true
                    return false
                case .deliverAfterGap(let from, let count):
                    lost.append((partition, from, count))
                    offsetsLost.add(Int(count), ordering: .relaxed)
                }
                let payload = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? []
                let key = m.key.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: m.key_len), as: UTF8.self) }
                records.append(BusRecord(topic: topic, partition: m.partition, offset: m.offset, key: key, payload: payload))
                if records.count >= 10_000 { endedEarly = true; break }
            }
            return false
        }
        if endedEarly {
            var one: UInt64 = 1
            _ = write(readinessFD, &one, 8)  // the queue may still hold records: let the owner poll again
        }
        if !records.isEmpty {
            positions.withLock { p in
                for r in records { p[names.name(r.topic), default: [:]][r.partition] = r.offset + 1 }
            }
        }
        for (partition, from, count) in lost {
            kafkaLog.warning("Kafka broker skipped offsets that were still missing after reading them again for 2 s: reading on without them",
                             metadata: ["topic": "\(partition.topic)", "partition": "\(partition.partition)", "from": "\(from)", "count": "\(count)"])
        }
        for (partition, expected, got) in rewound {
            kafkaLog.warning("Kafka partition read from an earlier offset than the next one expected (its log started again): reading on from there",
                             metadata: ["topic": "\(partition.topic)", "partition": "\(partition.partition)", "expected": "\(expected)", "offset": "\(got)"])
        }
        for err in errors where reportedErrors.insert(err.rawValue).inserted {
            kafkaLog.error("Kafka consumer error", metadata: ["error": "\(String(cString: rd_kafka_err2str(err)))"])
        }
        // While suspended (topics being re-created) nothing can arrive; don't spin the caller.
        if suspended && timeoutMs > 0 { usleep(UInt32(Swift.min(timeoutMs, 200)) * 1000) }
        return records
    }

    /// Destroys the librdkafka client (the broker went away; see the type's comment).
    func suspend() {
        // Destroyed outside the lock: closing a client can take a while.
        let old = client.withLock { c -> ConsumerClient? in defer { c = nil }; return c }
        _ = old
    }

    /// After `suspend`, reads on with a fresh client (see the type's comment); topics named in
    /// `newLogs` were re-created and are read from their beginnings.
    /// - Throws: `BusError` when the topics cannot be read yet (the keeper tries again).
    func resume(newLogs: Set<String>) throws(BusError) {
        // The fresh client writes to `readinessFD`: `close` must not close it meanwhile.
        lifecycle.lock()
        defer { lifecycle.unlock() }
        guard !isClosed.load(ordering: .relaxed) else { return }
        let resumeAt = positions.withLock { p in p.filter { !newLogs.contains($0.key) } }
        let fresh = try ConsumerClient(brokers: brokers, names: names, wanted: wanted, from: .beginning,
                                       resumeAt: resumeAt, readinessFD: readinessFD, extra: extra)
        client.withLock { $0 = fresh }
        var one: UInt64 = 1
        _ = write(readinessFD, &one, 8)  // let the owner poll now
    }

    var isSuspended: Bool { client.withLock { $0 == nil } }

    public func close() {
        guard !isClosed.exchange(true, ordering: .relaxed) else { return }
        lifecycle.lock()
        defer { lifecycle.unlock() }
        suspend()
        Glibc.close(readinessFD)
    }

    deinit { close() }
}

/// One librdkafka consumer with its queue and partition assignment; destroyed with the value.
/// @unchecked Sendable: used only under its owner's mutex.
final class ConsumerClient: @unchecked Sendable {
    let rk: OpaquePointer
    private let queue: OpaquePointer
    /// The offsets assigned, where concrete (for resuming later).
    private(set) var startPositions: [String: [Int32: Int64]] = [:]
    /// Offsets expected next, per partition (a fetch that skips some is read again).
    var gaps = OffsetGaps()

    /// - Parameter resumeAt: next offsets per topic and partition; each is used where the
    ///   partition's log still holds it, else the partition is read from its beginning.
    init(brokers: KafkaConnection, names: TopicNames, wanted: [Topic], from start: StartPosition,
         resumeAt: [String: [Int32: Int64]], readinessFD: Int32, extra: [String: String]) throws(BusError) {
        var properties = brokers.clientProperties([
            // Required to create the consumer queue; never joined (we assign, not subscribe).
            "group.id": "stampede-\(UUID().uuidString)",
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "enable.partition.eof": "false",
            "fetch.wait.max.ms": "10",
            "reconnect.backoff.max.ms": "1000",
            // A partition whose log restarted is read from its new beginning, not skipped.
            "auto.offset.reset": "earliest",
            "socket.keepalive.enable": "true",
        ])
        for (k, v) in extra { properties[k] = v }
        let conf = try KafkaConfiguration(properties)
        rk = try conf.makeClient(RD_KAFKA_CONSUMER)
        rd_kafka_poll_set_consumer(rk)
        guard let q = rd_kafka_queue_get_consumer(rk) else {
            rd_kafka_destroy(rk)
            throw .client("no consumer queue")
        }
        queue = q
        var one: UInt64 = 1
        withUnsafeBytes(of: &one) { rd_kafka_queue_io_event_enable(queue, readinessFD, $0.baseAddress, 8) }
        do throws(BusError) {
            try assign(names: names, wanted: wanted, from: start, resumeAt: resumeAt)
        } catch {
            destroy()
            throw error
        }
    }

    private func assign(names: TopicNames, wanted: [Topic], from start: StartPosition,
                        resumeAt: [String: [Int32: Int64]]) throws(BusError) {
        guard let list = rd_kafka_topic_partition_list_new(8) else { throw BusError.client("rd_kafka_topic_partition_list_new failed") }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in wanted {
            let name = names.name(topic)
            for partition in try KafkaAdmin.partitions(rk, topic: name, timeoutMs: 10_000) {
                var offset = Int64(RD_KAFKA_OFFSET_BEGINNING)
                let next = resumeAt[name]?[partition]
                let fromEnd = if case .end = start { true } else { false }
                if next != nil || fromEnd {
                    let (low, high) = try watermarks(name, partition)
                    if let next {
                        offset = next <= high && next >= low ? next : low  // a shorter log is a new one
                    } else {
                        offset = high
                    }
                    startPositions[name, default: [:]][partition] = offset
                }
                rd_kafka_topic_partition_list_add(list, name, partition)?.pointee.offset = offset
            }
        }
        if case .time(let ms) = start { resolveTimes(list, ms) }
        var starts: [OffsetGaps.PartitionKey: Int64] = [:]
        for i in 0..<Int(list.pointee.cnt) {
            let e = list.pointee.elems[i]
            starts[OffsetGaps.PartitionKey(topic: String(cString: e.topic), partition: e.partition)] = e.offset
        }
        gaps = OffsetGaps(starts: starts)
        let err = rd_kafka_assign(rk, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw BusError.from("assign", err) }
    }

    /// Reads `partition` again from `offset` (asynchronously: librdkafka drops what it had
    /// fetched past it).
    func seek(_ partition: OffsetGaps.PartitionKey, to offset: Int64) {
        guard let list = rd_kafka_topic_partition_list_new(1) else { return }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)?.pointee.offset = offset
        if let error = rd_kafka_seek_partitions(rk, list, 0) {
            kafkaLog.warning("Kafka consumer could not seek back over skipped offsets", metadata: [
                "topic": "\(partition.topic)", "partition": "\(partition.partition)", "offset": "\(offset)",
                "error": "\(String(cString: rd_kafka_error_string(error)))"])
            rd_kafka_error_destroy(error)
        }
    }

    /// A partition's first and next offsets, from the broker.
    private func watermarks(_ topic: String, _ partition: Int32) throws(BusError) -> (low: Int64, high: Int64) {
        var low: Int64 = 0, high: Int64 = 0
        let err = rd_kafka_query_watermark_offsets(rk, topic, partition, &low, &high, 10_000)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw BusError.from("watermarks \(topic)/\(partition)", err) }
        return (low, high)
    }

    /// Replaces each partition's offset by the first offset at or after `ms`; keeps "beginning"
    /// where the broker has no answer (or no time index at all).
    private func resolveTimes(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>, _ ms: Int64) {
        guard let query = rd_kafka_topic_partition_list_copy(list) else { return }
        defer { rd_kafka_topic_partition_list_destroy(query) }
        for i in 0..<Int(query.pointee.cnt) { query.pointee.elems[i].offset = ms }
        let err = rd_kafka_offsets_for_times(rk, query, 10_000)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            kafkaLog.warning("Kafka offsets for a time not found; reading from the beginning", metadata: ["time_ms": "\(ms)", "error": "\(String(cString: rd_kafka_err2str(err)))"])
            return
        }
        for i in 0..<Int(query.pointee.cnt) {
            let e = query.pointee.elems[i]
            guard e.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            if e.offset >= 0 {
                list.pointee.elems[i].offset = e.offset
            } else {
                // No message at or after the time yet: from the current end (resolved now, so
                // nothing produced from here on is missed).
                if let (_, high) = try? watermarks(String(cString: e.topic), e.partition) {
                    list.pointee.elems[i].offset = high
                }
            }
        }
    }

    private var destroyed = false

    private func destroy() {
        guard !destroyed else { return }
        destroyed = true
        rd_kafka_queue_io_event_enable(queue, -1, nil, 0)
        rd_kafka_queue_destroy(queue)
        _ = rd_kafka_consumer_close(rk)
        rd_kafka_destroy(rk)
    }

    deinit { destroy() }
}

private func monotonicNs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
