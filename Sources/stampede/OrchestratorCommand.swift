import ArgumentParser
import Foundation
import Logging
import Messaging
import Orchestrator
import Reactor

struct OrchestratorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orchestrator",
        abstract: "Run the orchestrator: REST API and live WebSocket feed; sends tests to drivers over Kafka and merges their histograms.",
        discussion: """
            Create a test with POST /tests, start it with POST /trigger, watch /ws, read \
            GET /tests/{id}; reports land in --reports-dir/<test_id>/ (report.json, \
            drivers/<id>.json, latency.hlog). A driver silent for --heartbeat-timeout-ms is marked \
            failed and its test completes from the others (the report says partial). Kafka outages are \
            ridden out (clients reconnect; topics lost by a broker restart are re-created); a test \
            fails with a partial report when nothing has come through for --bus-timeout-ms. Each \
            driver's clock offset is estimated from heartbeat round trips: its start time is moved \
            by it, and a driver further off than --max-clock-offset-ms is refused for tests.

            Listening on anything but loopback needs --token or --token-file (or an explicit --no-auth): \
            a load tester's control API aims traffic wherever it is told.

            Every flag can also come from the environment as STAMPEDE_<FLAG> (STAMPEDE_BROKERS, \
            STAMPEDE_TOKEN_FILE, STAMPEDE_REPORTS_DIR, ...); a flag on the command line wins.

            Example:
              stampede orchestrator --listen 127.0.0.1:8080 --brokers 127.0.0.1:9092
              curl -X POST localhost:8080/tests -d '{"target": "http://10.0.0.9/",
                  "test_type": "AVALANCHE", "message_count_per_driver": 20000}'
              curl -X POST localhost:8080/trigger -d '{"test_id": "..."}'
            """)

    @Option(help: "HOST:PORT for the REST API and /ws.")
    var listen: String = "127.0.0.1:8080"

    @Option(help: "Kafka bootstrap servers, comma-separated HOST:PORT.")
    var brokers: String = "127.0.0.1:9092"

    @Option(name: .customLong("reports-dir"), help: "Where reports are written.")
    var reportsDir: String = "./reports"

    @Option(name: .customLong("keep-tests"), help: ArgumentHelp("Finished tests kept whole in memory (1...100000); older ones are listed by GET /tests without their report and read back from --reports-dir by GET /tests/{id}.", valueName: "n"))
    var keepTests: Int = 200

    @Option(name: .customLong("allowed-origin"), help: "An origin that gets CORS headers and may open /ws (repeatable).")
    var allowedOrigins: [String] = []

    @Option(name: .customLong("allow-target"), help: "Only let tests aim at this host, IP address or CIDR block (repeatable; default: anywhere).")
    var allowTargets: [String] = []

    @Option(help: "Require 'Authorization: Bearer TOKEN' (or ?token= on /ws) on everything but /ping.")
    var token: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp("Read the token from FILE (so it never shows in ps).", valueName: "file"))
    var tokenFile: String?

    @OptionGroup var kafka: KafkaOptions

    @Flag(name: .customLong("no-auth"), help: "Allow listening on a non-loopback address without --token.")
    var noAuth = false

    @Option(name: .customLong("heartbeat-timeout-ms"), help: "A driver silent this long is marked failed.")
    var heartbeatTimeoutMs: Int = 3_000

    @Option(name: .customLong("max-clock-offset-ms"), help: ArgumentHelp(
        "Refuse drivers for tests whose wall clock is further off than this from the orchestrator's (estimated from heartbeat round trips, shown as clock_offset_ms in GET /drivers). Within it, each driver's start time is moved by its offset so all start together.",
        valueName: "ms"))
    var maxClockOffsetMs: Int = 1_000

    @Option(name: .customLong("bus-timeout-ms"), help: "A running test fails, with a partial report saying why, when Kafka has delivered nothing for this long.")
    var busTimeoutMs: Int = 60_000

    @Option(name: .customLong("start-delay-ms"), help: ArgumentHelp(
        "How far ahead of the trigger a test starts: drivers open their connections in that time (give thousands of TLS connections seconds; a driver that is not ready says so in connect_late_s).",
        valueName: "ms"))
    var startDelayMs: Int = 1_000

    @Option(name: .customLong("topic-prefix"), help: "Prefix of the Kafka topic names.")
    var topicPrefix: String = "stampede."

    @Option(name: .customLong("ws-ping-interval-ms"), help: "Ping a silent /ws client after this long; drop it if it has not answered this long after.")
    var wsPingIntervalMs: Int = 10_000

    /// --token, or the first line of --token-file.
    func resolvedToken() throws -> String? {
        guard let tokenFile else { return token }
        guard token == nil else { throw ValidationError("--token-file: give --token or --token-file, not both") }
        guard let data = FileManager.default.contents(atPath: tokenFile) else { throw ValidationError("--token-file: cannot read '\(tokenFile)'") }
        let text = String(decoding: data, as: UTF8.self).split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        guard !text.isEmpty else { throw ValidationError("--token-file: '\(tokenFile)' is empty") }
        return text
    }

    func validate() throws {
        let (host, _) = try parseListen(listen)
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        let token = try resolvedToken()
        if !loopback && token == nil && !noAuth {
            throw ValidationError("--listen: \(host) is not a loopback address: give --token (or --no-auth to run without one)")
        }
        if let token { guard !token.isEmpty else { throw ValidationError("--token: must not be empty") } }
        guard (100...3_600_000).contains(wsPingIntervalMs) else { throw ValidationError("--ws-ping-interval-ms: must be in 100...3600000") }
        guard (100...3_600_000).contains(heartbeatTimeoutMs) else { throw ValidationError("--heartbeat-timeout-ms: must be in 100...3600000") }
        guard (1_000...86_400_000).contains(busTimeoutMs) else { throw ValidationError("--bus-timeout-ms: must be in 1000...86400000") }
        guard (1...3_600_000).contains(maxClockOffsetMs) else {
            throw ValidationError("--max-clock-offset-ms: must be in 1...3600000, got \(maxClockOffsetMs)")
        }
        guard (0...600_000).contains(startDelayMs) else { throw ValidationError("--start-delay-ms: must be in 0...600000") }
        guard (1...100_000).contains(keepTests) else { throw ValidationError("--keep-tests: must be in 1...100000, got \(keepTests)") }
        do { _ = try TargetAllowList(allowTargets) } catch { throw ValidationError("--allow-target: \(error.reason)") }
        for origin in allowedOrigins where !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) {
            throw ValidationError("--allowed-origin: '\(origin)' must look like http://host[:port]")
        }
    }

    @OptionGroup var logging: LogOptions

    func run() throws {
        logging.bootstrap()
        let (host, port) = try parseListen(listen)
        var options = OrchestratorOptions()
        options.host = host
        options.port = port
        options.reportsDirectory = reportsDir
        options.keepTests = keepTests
        options.allowedOrigins = allowedOrigins
        options.token = try resolvedToken()
        options.heartbeatTimeoutMs = heartbeatTimeoutMs
        options.busTimeoutMs = busTimeoutMs
        options.startDelayMs = startDelayMs
        options.maxClockOffsetMs = maxClockOffsetMs
        options.brokers = brokers
        options.webSocketPingIntervalMs = wsPingIntervalMs
        options.allowedTargets = try TargetAllowList(allowTargets)
        Logger(label: "stampede.orchestrator").notice("starting", metadata: [
            "librdkafka": "\(librdkafkaRuntimeVersion)", "brokers": "\(brokers)", "topics": "\(topicPrefix)*"])
        useOneMallocArena()  // before librdkafka's threads and ours start
        let connection = try kafka.connection(brokers: brokers)
        KafkaOptions.logConnection(connection, Logger(label: "stampede.orchestrator"))
        let orchestrator: Orchestrator
        do {
            let bus = try KafkaBus(connection: connection, topics: TopicNames.stampede(prefix: topicPrefix), keepTopics: true)
            orchestrator = try Orchestrator(options: options, bus: bus)
        } catch {
            printError("stampede orchestrator: \(error)")
            throw ExitCode(1)
        }
        let signals = SignalHandlers { orchestrator.requestShutdown() }
        defer { signals.cancel() }
        let shown = host.contains(":") ? "[\(host)]" : host
        FileHandle.standardOutput.write(Data("stampede orchestrator listening on http://\(shown):\(orchestrator.port)/\n".utf8))
        try orchestrator.run()
    }
}
