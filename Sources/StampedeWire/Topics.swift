import Messaging

/// Stampede's five topics (docs/kafka.md). Metrics are keyed by driver id, so one driver's
/// messages stay ordered on one partition; the rest are small broadcast topics.
extension Topic {
    public static let register = Topic("register")
    public static let heartbeat = Topic("heartbeat")
    public static let test_config = Topic("test_config")
    public static let trigger = Topic("trigger")
    public static let metrics = Topic("metrics")

    /// Every topic Stampede uses.
    public static let stampede: [Topic] = [.register, .heartbeat, .test_config, .trigger, .metrics]
}

extension TopicNames {
    /// Stampede's topics after `prefix` (default "stampede.", `--topic-prefix`).
    public static func stampede(prefix: String = "stampede.") -> TopicNames {
        TopicNames(prefix: prefix, topics: Topic.stampede, partitions: [.metrics: 4])
    }
}
