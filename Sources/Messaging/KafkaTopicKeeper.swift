import CRdKafka
import Foundation
import Logging
import Synchronization

/// Keeps a process's Kafka clients working across a broker restart, including one that comes
/// back without its topics (Tansu's in-memory storage, a wiped Kafka). Without it librdkafka 2.8
/// corrupts its metadata cache, and crashes, when a broker comes back without topics it had cached
/// or with them re-created under new topic ids (librdkafka #4964, #4898; its maintainers: restart
/// the clients); and producers would retry into missing topics until their messages time out.
///
/// 1. When a producer reports every broker down (or topics go missing), every producer of this
///    process moves its undelivered messages, in order, to a fresh librdkafka client, and every
///    consumer drops its client.
/// 2. A fresh client (no cache) asks the broker for the topics and their ids, every `intervalMs`
///    while recovering and every `healthyIntervalMs` otherwise. Topics still missing `settleMs`
///    after they were first seen missing are created: by then every other process sharing the
///    broker has lost its connection too and done step 1.
/// 3. Consumers resume with fresh clients: at the offsets they would have read next, or from the
///    beginning of a topic whose id changed. Messages the old broker held that nobody had read are
///    gone with its storage.
final class KafkaTopicKeeper: Sendable {
    private let state = KeeperState()
    private let loss: BrokerLossSignal

    init(brokers: KafkaConnection, names: TopicNames, clients: KafkaClientRegistry, intervalMs: Int = 1_000,
         healthyIntervalMs: Int = 5_000, settleMs: Int = 2_000, onRepair: @escaping @Sendable (String) -> Void) {
        let state = self.state
        let loss = clients.lossSignal
        @Sendable func log(_ line: String) {
            kafkaLog.warning("\(line)")
            onRepair(line)
        }
        self.loss = loss
        let thread = Thread {
            defer { state.done.signal() }
            var replaced = false
            var missingSince: Date?
            var knownIDs: [String: String] = [:]
            /// Topics whose log is new since the clients were replaced: read from the beginning.
            var newLogs: Set<String> = []
            func replaceClients() {
                for p in clients.producers { p.replaceClient() }
                for c in clients.consumers { c.suspend() }
                replaced = true
            }
            while true {
                let recovering = replaced || missingSince != nil
                _ = loss.wake.wait(timeout: .now() + .milliseconds(recovering ? intervalMs : healthyIntervalMs))
                if state.stop.load(ordering: .relaxed) { return }
                if loss.lost.exchange(false, ordering: .relaxed) && !replaced {
                    log("Kafka broker connection lost: replacing this process's Kafka clients; they resume when the broker is back")
                    replaceClients()
                }
                // nil: the broker cannot be asked (down); nothing to do until it is back.
                guard let ids = KafkaTopicKeeper.topicIDs(brokers: brokers, names: names) else { continue }
                let missing = ids.filter { $0.value == nil }.keys.sorted()
                for case let (name, id?) in ids {
                    if let known = knownIDs[name], known != id { newLogs.insert(name) }
                    knownIDs[name] = id
                }
                if !missing.isEmpty {
                    newLogs.formUnion(missing)
                    if !replaced {
                        log("Kafka topics \(missing.joined(separator: ", ")) are gone: replacing this process's Kafka clients")
                        replaceClients()
                    }
                    // Let every other process sharing the broker notice and replace its clients
                    // before the topics exist again.
                    let since = missingSince ?? Date()
                    missingSince = since
                    if Date().timeIntervalSince(since) * 1000 < Double(settleMs) { continue }
                    do throws(BusError) {
                        try KafkaTopicKeeper.create(brokers: brokers, names: names)
                        log("Kafka topics \(missing.joined(separator: ", ")) were missing (broker restarted without its storage?): created them again")
                    } catch {
                        log("Kafka topics \(missing.joined(separator: ", ")) could not be created (trying again): \(error)")
                        continue
                    }
                }
                missingSince = nil
                guard replaced else { continue }
                var waiting = 0
                for c in clients.consumers where c.isSuspended {
                    do { try c.resume(newLogs: newLogs) } catch { waiting += 1 }
                }
                if waiting == 0 {
                    replaced = false
                    newLogs = []
                    log("Kafka broker back: consumers resumed")
                }
            }
        }
        thread.name = "stampede-kafka-topics"
        thread.start()
    }

    /// Topic ids (nil: missing); nil when the broker cannot be asked. A fresh client each time,
    /// so no metadata is cached across a broker restart.
    private static func topicIDs(brokers: KafkaConnection, names: TopicNames) -> [String: String?]? {
        (try? KafkaAdmin.withClient(brokers: brokers, quiet: true) { KafkaAdmin.topicIDs($0, names: names, timeoutMs: 2_000) }) ?? nil
    }

    private static func create(brokers: KafkaConnection, names: TopicNames) throws(BusError) {
        try KafkaAdmin.withClient(brokers: brokers, quiet: true) { rk throws(BusError) in
            try KafkaAdmin.createTopics(rk, names: names, timeoutMs: 5_000)
        }
    }

    deinit {
        state.stop.store(true, ordering: .relaxed)
        loss.wake.signal()
        state.done.wait()
    }
}

private final class KeeperState: Sendable {
    let stop = Atomic<Bool>(false)
    let done = DispatchSemaphore(value: 0)
}

/// Raised by a producer's error callback when every broker connection is down; wakes the keeper.
final class BrokerLossSignal: Sendable {
    let lost = Atomic<Bool>(false)
    let wake = DispatchSemaphore(value: 0)

    func raise() {
        if !lost.exchange(true, ordering: .relaxed) { wake.signal() }
    }
}

/// The producers and consumers a `KafkaBus` made, held weakly (their owners decide their lives).
final class KafkaClientRegistry: Sendable {
    let lossSignal = BrokerLossSignal()
    private struct Weak<T: AnyObject>: @unchecked Sendable { weak var value: T? }
    private let entries = Mutex<(producers: [Weak<KafkaProducer>], consumers: [Weak<KafkaConsumer>])>(([], []))

    func add(_ p: KafkaProducer) { entries.withLock { $0.producers = $0.producers.filter { $0.value != nil } + [Weak(value: p)] } }
    func add(_ c: KafkaConsumer) { entries.withLock { $0.consumers = $0.consumers.filter { $0.value != nil } + [Weak(value: c)] } }
    var producers: [KafkaProducer] { entries.withLock { $0.producers.compactMap(\.value) } }
    var consumers: [KafkaConsumer] { entries.withLock { $0.consumers.compactMap(\.value) } }
}
