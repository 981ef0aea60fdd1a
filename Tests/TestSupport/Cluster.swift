import Foundation

/// A whole distributed set-up for end-to-end tests: Tansu, one `stampede orchestrator` and N
/// `stampede driver` processes, on loopback with a topic prefix of their own.
public final class Cluster: ClusterAPI {
    public let broker: TansuBroker
    public private(set) var orchestrator: ServerProcess
    private let orchestratorArguments: [String]
    public var drivers: [String: DriverProcess] = [:]
    public let apiPort: Int
    public let reportsDirectory: URL
    public let prefix = uniqueTopicPrefix()

    private let orchestratorBinary: URL
    /// Where the first orchestrator's stderr goes (nil, and a restarted one's: discarded).
    public let orchestratorLog: URL?

    public init(drivers count: Int, heartbeatTimeoutMs: Int = 3_000, extraArguments: [String] = [],
                orchestratorBinary: URL = stampedeBinary, orchestratorLog: URL? = nil) throws {
        self.orchestratorBinary = orchestratorBinary
        self.orchestratorLog = orchestratorLog
        broker = try TansuBroker()
        let port = freePort()
        apiPort = port
        reportsDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-reports-\(UUID().uuidString)")
        orchestratorArguments = ["orchestrator", "--listen", "127.0.0.1:\(apiPort)", "--brokers", broker.brokers,
                                 "--reports-dir", reportsDirectory.path, "--topic-prefix", prefix,
                                 "--heartbeat-timeout-ms", String(heartbeatTimeoutMs)] + extraArguments
        orchestrator = try ServerProcess(orchestratorBinary, orchestratorArguments, port: apiPort, log: orchestratorLog) { try waitForPort(port) }
        for i in 1...max(count, 1) where count > 0 { try startDriver("d\(i)") }
        try waitUntil(seconds: 30) { (try? self.idleDrivers()) == count }
    }

    public func startDriver(_ id: String, extraArguments: [String] = []) throws {
        drivers[id] = try DriverProcess(brokers: broker.brokers, id: id, prefix: prefix, extraArguments: extraArguments)
    }

    /// Sends SIGKILL to a driver: no final message, no goodbye.
    public func killDriver(_ id: String) {
        drivers[id]?.kill9()
    }

    /// Calls the REST API with curl; returns status and body.
    public func call(_ method: String, _ path: String, body: String?, headers: [String]) throws -> (Int, String) {
        try apiCall(port: apiPort, method, path, body: body, headers: headers)
    }

    /// SIGKILL to the orchestrator: no goodbye, no report.
    public func killOrchestrator() {
        kill(orchestrator.process.processIdentifier, SIGKILL)
        orchestrator.process.waitUntilExit()
    }

    /// Starts a new orchestrator with the same arguments (same reports directory and topics).
    public func restartOrchestrator() throws {
        orchestrator = try ServerProcess(orchestratorBinary, orchestratorArguments, port: apiPort)
    }

    /// Stops the orchestrator with SIGTERM (graceful) and returns its exit status.
    public func stopOrchestrator() -> Int32 {
        orchestrator.process.terminate()
        orchestrator.process.waitUntilExit()
        return orchestrator.process.terminationStatus
    }

    public func stop() {
        for (_, p) in drivers where p.isRunning { p.process.terminate() }
        for (_, p) in drivers { p.terminate() }
        orchestrator.stop()
        broker.stop()
        try? FileManager.default.removeItem(at: reportsDirectory)
    }

    deinit { stop() }
}

/// Polls `condition` every 100 ms until it holds or `seconds` pass.
public func waitUntil(seconds: Double, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try condition() { return }
        usleep(100_000)
    }
    throw ProcessFailure(description: "condition not met within \(seconds) s")
}

/// Runs the Python WebSocket client (Tests/Interop/ws_client.py) in the background.
public final class WebSocketListener {
    let process = Process()
    let output = Pipe()

    public init(url: String, seconds: Double, untilFinal testID: String? = nil, origin: String? = nil) throws {
        process.executableURL = repositoryRoot.appendingPathComponent(".venv/bin/python")
        var args = [repositoryRoot.appendingPathComponent("Tests/Interop/ws_client.py").path, url, String(seconds)]
        if let testID { args += ["--until-final", testID] }
        if let origin { args += ["--origin", origin] }
        process.arguments = args
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Waits for the client to finish; returns its exit status and every line it printed.
    public func finish() -> (Int32, [String]) {
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init))
    }
}

/// Calls an orchestrator's REST API on 127.0.0.1:`port` with curl; returns status and body.
/// `inside`: a command prefix that runs curl elsewhere (`ip netns exec NS`: a test host).
public func apiCall(port: Int, _ method: String, _ path: String, body: String? = nil, headers: [String] = [],
                    inside: [String] = []) throws -> (Int, String) {
    var args = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, "http://127.0.0.1:\(port)\(path)"]
    let bodyFile = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-body-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: bodyFile) }
    if let body {
        // From a file: a large body would not fit on a command line.
        try body.write(to: bodyFile, atomically: true, encoding: .utf8)
        args += ["-H", "Content-Type: application/json", "--data-binary", "@\(bodyFile.path)"]
    }
    for h in headers { args += ["-H", h] }
    let result = inside.isEmpty ? try runCommand(URL(fileURLWithPath: "/usr/bin/curl"), args, timeout: 30)
        : try runCommand(URL(fileURLWithPath: inside[0]), Array(inside.dropFirst()) + ["/usr/bin/curl"] + args, timeout: 30)
    let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
    let status = Int(lines.last ?? "") ?? 0
    return (status, lines.dropLast().joined(separator: "\n"))
}
