import ArgumentParser
import Driver
import Foundation
import Logging
import Messaging
import StampedeModel

struct DriverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "driver",
        abstract: "Run a driver node: take tests from the orchestrator over Kafka, generate the load, report latencies.",
        discussion: """
            The driver registers on the `register` topic, heartbeats every second on `heartbeat`, \
            reads `test_config` and `trigger` (from their end: it only takes tests sent after it \
            started), starts each test at the trigger's start time, and publishes every second's \
            counters and HDR histogram, then a final message, on `metrics`. Ctrl-C (or SIGTERM) \
            interrupts a running test, publishes what it has and leaves.

            Every flag can also come from the environment as STAMPEDE_<FLAG> (STAMPEDE_BROKERS, \
            STAMPEDE_ID, STAMPEDE_KAFKA_CONFIG; STAMPEDE_LABELS=zone=a,size=large); a flag on the \
            command line wins.

            Examples:
              stampede driver --brokers 10.0.0.5:9092 --id driver-1 --threads 2 \\
                  --label zone=eu-west
              STAMPEDE_BROKERS=10.0.0.5:9093 STAMPEDE_LABELS=zone=a stampede driver
            """)

    @Option(help: "Kafka bootstrap servers, comma-separated HOST:PORT.")
    var brokers: String = "127.0.0.1:9092"

    @Option(help: "This driver's id (default: HOSTNAME-PID).")
    var id: String?

    @Option(help: "Reactor threads for each test (a test config may override).")
    var threads: Int = 1

    @Option(name: .customLong("topic-prefix"), help: "Prefix of the Kafka topic names.")
    var topicPrefix: String = "stampede."

    @Option(name: .customLong("label"), help: ArgumentHelp("A label KEY=VALUE (repeatable): tests pick drivers by labels (driver_selector).", valueName: "key=value"))
    var labels: [String] = []

    @Option(name: .customLong("source-addrs"), help: ArgumentHelp(
        "Local addresses this driver's connections bind to, round-robin, for tests that name none (source_addrs): A-B (an IPv4 range) or A,B,... Each must be an address of this host.",
        valueName: "addrs"))
    var sourceAddrs: String?

    @OptionGroup var kafka: KafkaOptions

    /// `--label` as a dictionary.
    func labelMap() throws -> [String: String] {
        var map: [String: String] = [:]
        for text in labels {
            guard let eq = text.firstIndex(of: "="), eq != text.startIndex,
                  text[..<eq].allSatisfy({ $0.isLetter || $0.isNumber || "-_./".contains($0) }), text.count <= 256 else {
                throw ValidationError("--label: expected KEY=VALUE with KEY of letters, digits, - _ . /, got '\(text)'")
            }
            map[String(text[..<eq])] = String(text[text.index(after: eq)...])
        }
        return map
    }

    func validate() throws {
        guard LoadSpec.threadsRange.contains(threads) else { throw ValidationError("--threads: must be in 1...256, got \(threads)") }
        guard !brokers.isEmpty else { throw ValidationError("--brokers: must not be empty") }
        if let id { guard !id.isEmpty, id.count <= 200 else { throw ValidationError("--id: must be 1...200 characters") } }
        _ = try labelMap()
        _ = try sourceAddressList()
    }

    /// `--source-addrs` parsed (empty: the kernel's choice).
    func sourceAddressList() throws -> [String] {
        guard let sourceAddrs else { return [] }
        do { return try SourceAddresses.parse(sourceAddrs) } catch { throw ValidationError("--source-addrs: \(error.reason)") }
    }

    @OptionGroup var logging: LogOptions

    func run() throws {
        logging.bootstrap()
        let host = ProcessInfo.processInfo.hostName
        let name = id ?? "\(host)-\(ProcessInfo.processInfo.processIdentifier)"
        Logger(label: "stampede.driver").notice("starting", metadata: [
            "driver_id": "\(name)", "librdkafka": "\(librdkafkaRuntimeVersion)", "brokers": "\(brokers)", "topics": "\(topicPrefix)*"])
        let connection = try kafka.connection(brokers: brokers)
        KafkaOptions.logConnection(connection, Logger(label: "stampede.driver"))
        let bus: KafkaBus
        do {
            bus = try KafkaBus(connection: connection, topics: TopicNames.stampede(prefix: topicPrefix), keepTopics: true)
        } catch {
            printError("stampede driver: cannot use the brokers at \(brokers): \(error)")
            throw ExitCode(1)
        }
        let agent = DriverAgent(bus: bus, id: name, host: host, threads: threads, version: stampedeVersion, labels: try labelMap())
        agent.sourceAddresses = try sourceAddressList()
        let signals = SignalHandlers { agent.requestStop() }
        defer { signals.cancel() }
        do { try agent.run() } catch {
            printError("stampede driver: \(error)")
            throw ExitCode(1)
        }
    }
}
