/// The Kafka implementation of `Bus`: brokers, topic names, and topic creation on start.
public final class KafkaBus: Bus {
    public let brokers: String
    public let topics: TopicNames

    /// Connects, and creates the five topics when they are missing.
    /// - Throws: `BusError` when the brokers cannot be reached or refuse to create the topics.
    public init(brokers: String, topics: TopicNames = TopicNames(), createTopics: Bool = true) throws(BusError) {
        self.brokers = brokers
        self.topics = topics
        if createTopics {
            let admin = try KafkaProducer(brokers: brokers, topics: topics)
            try admin.createTopics()
            admin.close()
        }
    }

    public func makePublisher() throws(BusError) -> BusPublisher {
        try KafkaProducer(brokers: brokers, topics: topics)
    }

    public func subscribe(_ wanted: [Topic], from start: StartPosition) throws(BusError) -> BusSubscription {
        try KafkaConsumer(brokers: brokers, topics: topics, subscribe: wanted, from: start)
    }
}
