import CLinux
import Foundation
import Synchronization

/// The bus inside one process (the embedded `stampede run` mode, and fast unit tests): the same
/// semantics as Kafka here (per-topic append-only logs, every subscriber reads every message,
/// per-key order kept, subscriptions start at the end or the beginning), without a broker.
public final class InMemoryBus: Bus {
    public let topics: TopicNames
    private let state = Mutex<State>(State())

    private struct State {
        var logs: [Topic: [BusRecord]] = [:]
        var subscribers: [ObjectIdentifier: (topics: Set<Topic>, fd: Int32)] = [:]
    }

    public init(topics: TopicNames) { self.topics = topics }

    func append(_ topic: Topic, key: String?, payload: [UInt8]) {
        let fds: [Int32] = state.withLock { s in
            var log = s.logs[topic] ?? []
            log.append(BusRecord(topic: topic, partition: 0, offset: Int64(log.count), key: key, payload: payload))
            s.logs[topic] = log
            return s.subscribers.values.filter { $0.topics.contains(topic) }.map(\.fd)
        }
        var one: UInt64 = 1
        for fd in fds { _ = write(fd, &one, 8) }
    }

    func read(_ topic: Topic, from offset: Int) -> [BusRecord] {
        state.withLock { s in
            let log = s.logs[topic] ?? []
            return offset < log.count ? Array(log[offset...]) : []
        }
    }

    func endOffset(_ topic: Topic) -> Int { state.withLock { $0.logs[topic]?.count ?? 0 } }

    func register(_ subscription: InMemorySubscription, topics: Set<Topic>) {
        state.withLock { $0.subscribers[ObjectIdentifier(subscription)] = (topics, subscription.readinessFD) }
    }

    func unregister(_ subscription: InMemorySubscription) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: ObjectIdentifier(subscription)) }
    }

    public func makePublisher() throws(BusError) -> BusPublisher { InMemoryPublisher(bus: self) }

    public func subscribe(_ wanted: [Topic], from start: StartPosition) throws(BusError) -> BusSubscription {
        InMemorySubscription(bus: self, topics: wanted, start: start)
    }
}

final class InMemoryPublisher: BusPublisher {
    private let bus: InMemoryBus
    private let count = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)

    init(bus: InMemoryBus) { self.bus = bus }

    func publish(_ topic: Topic, key: String?, payload: [UInt8]) throws(BusError) {
        guard !closed.load(ordering: .relaxed) else { throw .closed }
        bus.append(topic, key: key, payload: payload)
        count.wrappingAdd(1, ordering: .relaxed)
    }

    func flush(timeoutMs: Int) -> Bool { true }
    var delivered: Int { count.load(ordering: .relaxed) }
    var failed: Int { 0 }
    func close() { closed.store(true, ordering: .relaxed) }
}

final class InMemorySubscription: BusSubscription {
    private let bus: InMemoryBus
    private let topics: [Topic]
    private var offsets: [Topic: Int] = [:]
    let readinessFD: Int32
    private var isClosed = false

    init(bus: InMemoryBus, topics: [Topic], start: StartPosition) {
        self.bus = bus
        self.topics = topics
        readinessFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        let fromEnd = if case .end = start { true } else { false }
        for t in topics { offsets[t] = fromEnd ? bus.endOffset(t) : 0 }
        bus.register(self, topics: Set(topics))
    }

    func poll(timeoutMs: Int) throws(BusError) -> [BusRecord] {
        guard !isClosed else { throw .closed }
        var deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
        while true {
            var value: UInt64 = 0
            _ = Glibc.read(readinessFD, &value, 8)
            var records: [BusRecord] = []
            for t in topics {
                let new = bus.read(t, from: offsets[t] ?? 0)
                offsets[t, default: 0] += new.count
                records += new
            }
            if !records.isEmpty || Date() >= deadline { return records }
            var fds = pollfd(fd: readinessFD, events: Int16(POLLIN), revents: 0)
            _ = Glibc.poll(&fds, 1, Int32(Swift.max(1, deadline.timeIntervalSinceNow * 1000)))
            if timeoutMs == 0 { deadline = Date() }
        }
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        bus.unregister(self)
        Glibc.close(readinessFD)
    }

    deinit { close() }
}
