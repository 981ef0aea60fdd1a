/// Where the brokers are and how to talk to them: the bootstrap servers, and librdkafka
/// properties (`security.protocol`, `ssl.ca.location`, `sasl.*`, …) applied to every producer,
/// consumer and admin client of the process, after Stampede's own, so the user's win.
public struct KafkaConnection: Sendable, CustomStringConvertible {
    public var servers: String
    public var properties: [String: String]

    public init(servers: String, properties: [String: String] = [:]) {
        self.servers = servers
        self.properties = properties
    }

    /// The servers (what logs and errors show; never the properties).
    public var description: String { servers }

    /// Stampede's properties for one kind of client, with the user's on top.
    func clientProperties(_ own: [String: String]) -> [String: String] {
        var all = own
        all["bootstrap.servers"] = servers
        for (key, value) in properties { all[key] = value }
        return all
    }

    /// The properties with every value whose name holds a secret replaced, for logs.
    public var redacted: [String: String] {
        Dictionary(uniqueKeysWithValues: properties.map { key, value in
            (key, Self.isSecret(key) ? "[redacted]" : value)
        })
    }

    /// `*password*`, `*secret*`, key material and tokens are never logged.
    public static func isSecret(_ key: String) -> Bool {
        let k = key.lowercased()
        return ["password", "secret", "token", "key.pem", "private", "sasl.oauthbearer.config", "sasl.jaas"].contains { k.contains($0) }
    }

    /// Checks every property against librdkafka before any client starts, so a misspelled or
    /// invalid one fails start-up naming it (librdkafka's own message).
    /// - Throws: `BusError.configuration` for the first property refused.
    public func validate() throws(BusError) {
        if properties["bootstrap.servers"] != nil || properties["metadata.broker.list"] != nil {
            throw .configuration(key: "bootstrap.servers", reason: "give the brokers with --brokers, not as a property")
        }
        _ = try KafkaConfiguration(clientProperties([:]))
    }
}
