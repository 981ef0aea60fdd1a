/// One message as read from the bus.
public struct BusRecord: Sendable, Equatable {
    public let topic: Topic
    public let partition: Int32
    public let offset: Int64
    public let key: String?
    public let payload: [UInt8]

    public init(topic: Topic, partition: Int32, offset: Int64, key: String?, payload: [UInt8]) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.payload = payload
    }
}

/// Where a new subscription starts reading.
public enum StartPosition: Sendable {
    /// Only messages published after the subscription exists (the end offsets are resolved when it
    /// is created, so nothing published after `subscribe` returns can be missed).
    case end
    /// Everything still held.
    case beginning
    /// The first message at or after a wall-clock time (ms since the epoch), by the broker's
    /// message timestamps; from the beginning where the broker cannot look times up. An
    /// orchestrator restarted mid-test reads the test's metrics again this way.
    case time(msSinceEpoch: Int64)
}

/// Sends messages. Implementations never block the caller: messages are queued and delivered in
/// the background, retried while the broker is unavailable.
public protocol BusPublisher: AnyObject, Sendable {
    /// Queues `payload` for `topic`. Messages with the same key keep their order.
    /// - Throws: `BusError.queueFull` when the local queue is full, `.closed` after `close()`.
    func publish(_ topic: Topic, key: String?, payload: [UInt8]) throws(BusError)
    /// Waits up to `timeoutMs` for every queued message to be delivered; true if all were.
    func flush(timeoutMs: Int) -> Bool
    /// Messages the broker acknowledged, and messages that failed for good.
    var delivered: Int { get }
    var failed: Int { get }
    func close()
}

/// Receives messages from a fixed set of topics, reading every partition directly (no consumer
/// group: no rebalance to wait for, and broadcast topics reach every subscriber).
public protocol BusSubscription: AnyObject {
    /// Records that arrived, waiting up to `timeoutMs` for the first (0: don't wait).
    func poll(timeoutMs: Int) throws(BusError) -> [BusRecord]
    /// A descriptor that becomes readable when records may be waiting: register it with a reactor
    /// and call `poll(timeoutMs: 0)` until it returns nothing.
    var readinessFD: Int32 { get }
    func close()
}

/// A message bus: Kafka, or in memory (same semantics) for the embedded mode and unit tests.
public protocol Bus: AnyObject, Sendable {
    var topics: TopicNames { get }
    func makePublisher() throws(BusError) -> BusPublisher
    func subscribe(_ topics: [Topic], from start: StartPosition) throws(BusError) -> BusSubscription
}
