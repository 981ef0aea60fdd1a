/// The Kafka implementation of `Bus`: brokers, topic names, and topic creation on start.
public final class KafkaBus: Bus {
    public let brokers: KafkaConnection
    public let topics: TopicNames
    private let clients = KafkaClientRegistry()
    private let keeper: KafkaTopicKeeper?

    /// Connects, and creates the five topics when they are missing.
    /// - Parameters:
    ///   - keepTopics: the bus also recovers when the broker later loses the topics (restarted with
    ///     empty storage): see `KafkaTopicKeeper`. What it does is logged.
    ///   - onTopicRepair: also hears each of those log lines (tests watch the repairs).
    /// - Throws: `BusError` when the brokers cannot be reached or refuse to create the topics.
    public convenience init(brokers: String, topics: TopicNames, createTopics: Bool = true,
                            keepTopics: Bool = false, onTopicRepair: (@Sendable (String) -> Void)? = nil) throws(BusError) {
        try self.init(connection: KafkaConnection(servers: brokers), topics: topics, createTopics: createTopics,
                      keepTopics: keepTopics, onTopicRepair: onTopicRepair)
    }

    /// - Parameter connection: the brokers and the librdkafka properties of every client.
    public init(connection brokers: KafkaConnection, topics: TopicNames, createTopics: Bool = true,
                keepTopics: Bool = false, onTopicRepair: (@Sendable (String) -> Void)? = nil) throws(BusError) {
        try brokers.validate()
        self.brokers = brokers
        self.topics = topics
        if createTopics {
            try KafkaAdmin.withClient(brokers: brokers) { rk throws(BusError) in
                try KafkaAdmin.createTopics(rk, names: topics, timeoutMs: 10_000)
            }
        }
        keeper = keepTopics ? KafkaTopicKeeper(brokers: brokers, names: topics, clients: clients, onRepair: onTopicRepair ?? { _ in }) : nil
    }

    public func makePublisher() throws(BusError) -> BusPublisher {
        let producer = try KafkaProducer(brokers: brokers, topics: topics, lossSignal: keeper == nil ? nil : clients.lossSignal)
        clients.add(producer)
        return producer
    }

    public func subscribe(_ wanted: [Topic], from start: StartPosition) throws(BusError) -> BusSubscription {
        let consumer = try KafkaConsumer(brokers: brokers, topics: topics, subscribe: wanted, from: start)
        clients.add(consumer)
        return consumer
    }
}
