import Foundation
import Histogram
import Reactor
import StampedeModel
import TLS

/// What one scenario of a run has prepared before any connect: its workload, where its origins
/// connect, the local addresses it binds, its TLS context.
struct ScenarioPart: Sendable {
    let workload: Workload
    let endpoints: [Endpoint]
    let sources: [SocketAddress]
    let tlsContext: TLSContext?

    init(_ scenario: Scenario) throws {
        let config = scenario.load
        let compiled = try config.validate()
        workload = try Workload(config, compiled: compiled)
        endpoints = try workload.origins.map { origin in
            let addresses = try SocketAddress.resolve(host: origin.host, port: origin.port)
            // A name with several addresses (localhost as ::1 and 127.0.0.1, a server listening on
            // one): the first that accepts, else the first (the run then says why it cannot connect).
            let address = addresses.count > 1
                ? TCPSocket.firstAccepting(addresses, timeoutMs: Int32(Swift.min(config.timeoutMs, 1_000))) ?? addresses[0] : addresses[0]
            return Endpoint(address: address, serverName: origin.bareHost, isTLS: origin.isTLS)
        }
        sources = try Self.bindableSources(config.sourceAddresses, family: endpoints.first?.address.family)
        tlsContext = workload.origins.contains(where: \.isTLS) ? try TLSContext(verify: !config.insecure, caFile: config.caFile) : nil
    }

    /// `--source-addrs`, each checked now (the target's address family, and a socket binds to
    /// it), so an address this host does not have fails before the test instead of every connect.
    static func bindableSources(_ addresses: [String], family: Int32?) throws -> [SocketAddress] {
        try addresses.map { text throws -> SocketAddress in
            let address: SocketAddress
            do throws(AddressError) { address = try SocketAddress.resolve(host: text, port: 0)[0] } catch {
                throw ConfigError(.sourceAddrs, "'\(text)' is not an address of this host: \(error.reason)")
            }
            if let family, address.family != family {
                throw ConfigError(.sourceAddrs, "\(text) is not of the target's address family (IPv4 vs IPv6)")
            }
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            defer { if fd >= 0 { close(fd) } }
            guard fd >= 0, address.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
                throw ConfigError(.sourceAddrs, "cannot bind \(text): \(String(cString: strerror(errno))) (add it to an interface, e.g. ip addr add)")
            }
            return address
        }
    }

}

/// One worker of a run: its thread, its scenario, its share of the scenario's connections (the
/// driver-wide index of the first) and budget, and its place among all workers.
struct WorkerPlan {
    let thread: Int
    let scenario: Int
    let connections: Int
    let offset: Int
    let budget: Int
    /// Sessions it may start (`sessions: N`; `Int.max`: no count).
    let sessions: Int
    let slot: Int

    /// Each scenario's connections and budget split over `min(threads, connections)` threads:
    /// thread t carries a worker of every scenario with connections there.
    static func plans(for scenarios: [Scenario]) -> [WorkerPlan] {
        var plans: [WorkerPlan] = []
        for (k, scenario) in scenarios.enumerated() {
            let load = scenario.load
            // A steerable avalanche allocates room to raise its connections (those rest until wanted).
            let threads = Swift.min(load.threads, load.allocatedConnections)
            let budget: Int = if case .requests(let n) = load.stop { n } else { Int.max }
            let budgets = split(total: budget, into: threads)
            let sessions = split(total: { if case .sessions(let n) = load.stop { n } else { Int.max } }(), into: threads)
            let counts = split(total: load.allocatedConnections, into: threads)
            var offset = 0
            for t in 0..<threads {
                plans.append(WorkerPlan(thread: t, scenario: k, connections: counts[t], offset: offset, budget: budgets[t],
                                        sessions: sessions[t], slot: plans.count))
                offset += counts[t]
            }
        }
        return plans
    }
}

/// What one worker hands back when its thread ends.
struct WorkerResult: @unchecked Sendable {
    var figures = Figures()
    var peakSockets = 0
    var busy = 0.0
    var firstError: String?
    var firstCheckFailure: String?
    var unsentPerSecond: [Int] = []
    var beganAt: UInt64 = 0
    var endedAt: UInt64 = 0
    var setupError: Error?
}

/// One second being gathered from the workers: the whole test's figures and each scenario's.
struct PendingSecond {
    var count = 0
    var figures = Figures()
    var scenarios: [Figures]
    var connections = 0

    init(scenarios: Int) { self.scenarios = Array(repeating: Figures(), count: scenarios) }

    mutating func add(_ s: IntervalSample) throws {
        connections += s.connections
        count += 1
        try figures.add(s.figures)
        try scenarios[s.scenario].add(s.figures)
    }
}

/// Workers' results summed: a scenario's, or the whole test's.
struct ScenarioTally {
    var figures = Figures()
    var unsentPerSecond: [Int] = []
    var firstError: String?
    var firstCheckFailure: String?
    var sockets = 0
    var busiest = 0.0
    var beganAt: UInt64?
    var endedAt: UInt64?

    /// - Parameter shift: seconds the worker's scenario began after the test (its unsent by
    ///   second move by that much on the test's clock).
    mutating func add(_ r: WorkerResult, shiftedBy shift: Int = 0) throws {
        sockets += r.peakSockets
        busiest = Swift.max(busiest, r.busy)
        try figures.add(r.figures)
        firstError = firstError ?? r.firstError
        firstCheckFailure = firstCheckFailure ?? r.firstCheckFailure
        if !r.unsentPerSecond.isEmpty {
            unsentPerSecond = addedPerSecond(unsentPerSecond, Array(repeating: 0, count: shift) + r.unsentPerSecond)
        }
        if r.beganAt > 0 { beganAt = Swift.min(beganAt ?? .max, r.beganAt) }
        endedAt = Swift.max(endedAt ?? 0, r.endedAt)
    }
}

/// One scenario of a finished run: what it measured on its own.
public struct ScenarioResult: Sendable {
    public let scenario: Scenario
    public let figures: Figures
    /// A timed tsunami: its unsent requests by the second (0-based, from its own start) they were due in.
    public let unsentPerSecond: [Int]
    public let firstError: String?
    public let firstCheckFailure: String?
    /// Seconds from its start until its last response or failure.
    public let duration: Double

    public var name: String { scenario.name }
}
