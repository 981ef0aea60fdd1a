/// A topic, named within a deployment (`TopicNames` adds the deployment's prefix). The transport
/// knows no application topics: the application defines its own (StampedeWire's `Topic.stampede`).
public struct Topic: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }
}

/// Topic names for one deployment: the application's topics after a configurable prefix.
public struct TopicNames: Sendable, Equatable {
    public let prefix: String
    /// The topics the bus creates when missing and keeps (recreates after a broker restart).
    public let topics: [Topic]
    /// Partitions to create a topic with (1 when not listed).
    public var partitions: [Topic: Int32]

    public init(prefix: String, topics: [Topic], partitions: [Topic: Int32] = [:]) {
        self.prefix = prefix
        self.topics = topics
        self.partitions = partitions
    }

    public func name(_ topic: Topic) -> String { prefix + topic.rawValue }

    /// The topic a full name stands for, if it is one of this deployment's.
    public func topic(named name: String) -> Topic? {
        guard name.hasPrefix(prefix) else { return nil }
        let topic = Topic(String(name.dropFirst(prefix.count)))
        return topics.contains(topic) ? topic : nil
    }

    func partitionCount(_ topic: Topic) -> Int32 { partitions[topic] ?? 1 }
}
