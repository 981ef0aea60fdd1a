import ArgumentParser
import Foundation
import Logging
import Messaging

/// How `orchestrator` and `driver` reach Kafka beyond the broker list: librdkafka properties for
/// every client (TLS, SASL), from `--kafka-config FILE` (Java properties, as Kafka's own tools
/// take) and `--kafka-property KEY=VALUE`, the flags winning.
struct KafkaOptions: ParsableArguments {
    @Option(name: .customLong("kafka-property"),
            help: ArgumentHelp("A librdkafka property KEY=VALUE for every Kafka client (repeatable), e.g. security.protocol=SSL.", valueName: "key=value"))
    var properties: [String] = []

    @Option(name: .customLong("kafka-config"),
            help: ArgumentHelp("A Java properties file of librdkafka properties (security.protocol, ssl.ca.location, sasl.mechanisms, ...).", valueName: "file"))
    var configFile: String?

    /// The brokers with every property, checked by librdkafka; secrets are never logged.
    /// - Throws: `ValidationError` naming the flag, the file line or the property librdkafka refused.
    func connection(brokers: String) throws -> KafkaConnection {
        var all: [String: String] = [:]
        if let configFile { all = try Self.readProperties(configFile) }
        for text in properties {
            guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
                throw ValidationError("--kafka-property: expected KEY=VALUE, got '\(text)'")
            }
            all[String(text[..<eq]).trimmingCharacters(in: .whitespaces)] = String(text[text.index(after: eq)...])
        }
        let connection = KafkaConnection(servers: brokers, properties: all)
        do { try connection.validate() } catch {
            throw ValidationError("\(configFile != nil && properties.isEmpty ? "--kafka-config" : "--kafka-property"): \(error)")
        }
        return connection
    }

    /// Java properties: `key=value`, `key: value` or `key value`; `#` and `!` start comments; a
    /// trailing backslash continues the line.
    static func readProperties(_ path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("--kafka-config: cannot read '\(path)'")
        }
        var out: [String: String] = [:]
        var pending = ""
        for (k, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = pending + raw.trimmingCharacters(in: .whitespaces)
            pending = ""
            if line.hasSuffix("\\") { pending = String(line.dropLast()); continue }
            line = line.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            guard let sep = line.firstIndex(where: { $0 == "=" || $0 == ":" || $0 == " " }), sep != line.startIndex else {
                throw ValidationError("--kafka-config \(path) line \(k + 1): expected key=value")
            }
            let key = line[..<sep].trimmingCharacters(in: .whitespaces)
            var value = Substring(line[line.index(after: sep)...])
            value = value.drop { $0 == " " || $0 == "=" || $0 == ":" }
            out[key] = String(value).trimmingCharacters(in: .whitespaces)
        }
        return out
    }

    /// Logs the properties in use, secrets redacted.
    static func logConnection(_ connection: KafkaConnection, _ log: Logger) {
        guard !connection.properties.isEmpty else { return }
        log.notice("kafka properties", metadata: connection.redacted.mapValues { .string($0) })
    }
}
