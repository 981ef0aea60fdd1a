import HTTP1
import LoadGenerator
import Messaging

extension TestSpec {
    /// The load configuration this spec describes for one driver.
    /// - Throws: `ConfigError` naming the field.
    public func loadConfig(defaultThreads: Int) throws(ConfigError) -> LoadConfig {
        let url: TargetURL
        do { url = try TargetURL(parsing: target) } catch { throw ConfigError(field: "target", reason: error.reason) }
        var config = LoadConfig(target: url)
        config.mode = mode
        config.connections = connections
        config.threads = threads ?? defaultThreads
        config.timeoutMs = timeout_ms
        config.method = method.uppercased()
        config.headers = headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        config.body = body.map { Array($0.utf8) } ?? []
        switch (requests, duration_s) {
        case (.some(let n), nil): config.stop = .requests(n)
        case (nil, .some(let s)): config.stop = .duration(s)
        default: throw ConfigError(field: "message_count_per_driver", reason: "give exactly one of message_count_per_driver and duration_s")
        }
        switch (delay_ms, rate) {
        case (.some(let d), nil): config.pacing = .delayMs(d)
        case (nil, .some(let r)): config.pacing = .rate(r)
        case (nil, nil): config.pacing = nil
        default: throw ConfigError(field: "rate", reason: "give test_message_delay or rate, not both")
        }
        try config.validate()
        return config
    }
}
