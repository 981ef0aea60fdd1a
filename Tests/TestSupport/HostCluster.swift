import Foundation

/// The distributed set-up across test hosts: Tansu on `broker`, the orchestrator on `orch`, nginx
/// on `target` (its access log: `$msec $remote_addr $request`), drivers on their own hosts with two
/// addresses each. Every process runs inside its host's namespace; the API is reached with curl
/// run on `orch`. Logs of the orchestrator and drivers are kept for the test to read.
public final class HostCluster: ClusterAPI {
    public let hosts: TestHosts
    public let nginx: Nginx
    public private(set) var broker: ServerProcess?
    public private(set) var orchestrator: ServerProcess?
    public private(set) var drivers: [String: DriverProcess] = [:]
    public let reportsDirectory: URL
    public let logDirectory: URL
    public let prefix = uniqueTopicPrefix()
    let heartbeatTimeoutMs: Int
    static let apiPort = 8080

    /// Each driver's two addresses: 198.18.0.1N and 198.18.0.2N.
    public static func driverAddresses(_ n: Int) -> [String] { ["198.18.0.1\(n)", "198.18.0.2\(n)"] }
    public var brokers: String { "\(hosts.address("broker")):9092" }
    public var targetURL: String { "http://\(nginx.address):\(nginx.port)/" }

    /// - Parameters:
    ///   - driverCount: drivers d1…dN (at most 9), started with `driverArguments`/`driverEnvironment`
    ///     of their id, each waited for until idle.
    public init(drivers driverCount: Int = 3, heartbeatTimeoutMs: Int = 3_000, orchestratorArguments: [String] = [],
                driverArguments: [String: [String]] = [:], driverEnvironment: [String: [String: String]] = [:],
                nginxLocations: String = "") throws {
        var layout: [(String, [String])] = [("broker", ["198.18.0.2"]), ("orch", ["198.18.0.3"]), ("target", ["198.18.0.4"])]
        for n in 1...driverCount { layout.append(("d\(n)", Self.driverAddresses(n))) }
        hosts = try TestHosts(layout)
        self.heartbeatTimeoutMs = heartbeatTimeoutMs
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-hosts-\(hosts.name)")
        reportsDirectory = base.appendingPathComponent("reports")
        logDirectory = base.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logDirectory, withIntermediateDirectories: true)
        nginx = try Nginx(locations: nginxLocations, logFormat: "$msec $remote_addr $request", on: (hosts, "target"))
        try startBroker()
        try startOrchestrator(orchestratorArguments)
        for n in 1...driverCount {
            let id = "d\(n)"
            try startDriver(id, arguments: driverArguments[id] ?? [], environment: driverEnvironment[id])
        }
        try waitUntil(seconds: 30) { (try? self.idleDrivers()) == driverCount }
    }

    public func startBroker() throws {
        let tansu = repositoryRoot.appendingPathComponent(".deps/bin/tansu")
        let url = "tcp://\(brokers)"
        let inside = hosts.inside("broker")
        broker = try ServerProcess(URL(fileURLWithPath: inside[0]), Array(inside.dropFirst()) + [
            tansu.path, "broker", "--listener-url", url, "--advertised-listener-url", url, "--storage-engine", "memory://tansu/",
        ], port: 9092) { try hosts.waitForPort(from: "broker", hosts.address("broker"), 9092) }
    }

    /// Starts (or restarts, with other flags) the orchestrator; its log goes to orchestrator.log.
    public func startOrchestrator(_ extra: [String] = []) throws {
        orchestrator?.stop()
        let inside = hosts.inside("orch")
        orchestrator = try ServerProcess(URL(fileURLWithPath: inside[0]), Array(inside.dropFirst()) + [
            stampedeBinary.path, "orchestrator", "--listen", "127.0.0.1:\(Self.apiPort)", "--brokers", brokers,
            "--reports-dir", reportsDirectory.path, "--topic-prefix", prefix, "--heartbeat-timeout-ms", String(heartbeatTimeoutMs),
        ] + extra, port: Self.apiPort, log: logDirectory.appendingPathComponent("orchestrator.log")) {
            try hosts.waitForPort(from: "orch", "127.0.0.1", Self.apiPort)
        }
    }

    public func startDriver(_ id: String, arguments: [String] = [], environment: [String: String]? = nil) throws {
        drivers[id] = try DriverProcess(brokers: brokers, id: id, prefix: prefix, extraArguments: arguments,
                                        log: logDirectory.appendingPathComponent("\(id).log"), inside: hosts.inside(id),
                                        environment: environment)
    }

    public func call(_ method: String, _ path: String, body: String?, headers: [String]) throws -> (Int, String) {
        try apiCall(port: Self.apiPort, method, path, body: body, headers: headers, inside: hosts.inside("orch"))
    }

    /// The orchestrator's log so far.
    public func orchestratorLog() -> String {
        (try? String(contentsOf: logDirectory.appendingPathComponent("orchestrator.log"), encoding: .utf8)) ?? ""
    }

    /// nginx's access log as (time in s since the epoch, client address), once it holds `expected` lines.
    public func targetLog(expecting expected: Int, seconds: Double = 10) throws -> [(at: Double, from: String)] {
        try nginx.accessLog(expecting: expected, seconds: seconds).compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count >= 2, let at = Double(parts[0]) else { return nil }
            return (at, String(parts[1]))
        }
    }

    /// Lines of nginx's access log from driver `n`'s addresses.
    public static func lines(_ log: [(at: Double, from: String)], ofDriver n: Int) -> Int {
        let mine = Set(driverAddresses(n))
        return log.filter { mine.contains($0.from) }.count
    }

    public func stop() {
        for (_, d) in drivers { d.terminate() }
        orchestrator?.stop()
        broker?.stop()
        nginx.stop()
        hosts.remove()
        try? FileManager.default.removeItem(at: reportsDirectory.deletingLastPathComponent())
    }

    deinit { stop() }
}

/// An LD_PRELOAD library that moves the wall clock (CLOCK_REALTIME, gettimeofday, time) by
/// `STAMPEDE_FAKE_OFFSET_MS` and leaves the monotonic clocks alone (Tests/Interop/fake_realtime.c,
/// built here with gcc once per test process).
public let fakeRealtimeLibrary: Result<String, ProcessFailure> = {
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-fake-realtime-\(getpid()).so").path
    let source = repositoryRoot.appendingPathComponent("Tests/Interop/fake_realtime.c").path
    guard let built = try? runCommand(URL(fileURLWithPath: "/usr/bin/gcc"), ["-shared", "-fPIC", "-O2", "-o", out, source, "-ldl"]),
          built.status == 0 else { return .failure(ProcessFailure(description: "gcc could not build \(source)")) }
    return .success(out)
}()
