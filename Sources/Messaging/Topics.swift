/// The five topics (docs/kafka.md), named after a configurable prefix (default "stampede.").
public enum Topic: String, CaseIterable, Sendable, Codable {
    case register, heartbeat, test_config, trigger, metrics
}

/// Topic names for one deployment.
public struct TopicNames: Sendable, Equatable {
    public let prefix: String
    /// Partitions to create a topic with when it is missing. Metrics are keyed by driver id, so
    /// one driver's messages stay ordered on one partition; the rest are small broadcast topics.
    public var partitions: [Topic: Int32] = [.metrics: 4]

    public init(prefix: String = "stampede.") { self.prefix = prefix }

    public func name(_ topic: Topic) -> String { prefix + topic.rawValue }

    public func topic(named name: String) -> Topic? {
        guard name.hasPrefix(prefix) else { return nil }
        return Topic(rawValue: String(name.dropFirst(prefix.count)))
    }

    func partitionCount(_ topic: Topic) -> Int32 { partitions[topic] ?? 1 }
}
