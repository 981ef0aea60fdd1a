import Foundation

/// Test hosts: a network namespace per host on one bridge (scripts/hosts.sh), addresses from
/// 198.18.0.0/24 that exist only inside them. Removed by `remove()` (and on deinit), also when a
/// test fails; processes still inside are killed with them.
public final class TestHosts {
    /// The namespaces' common prefix, unique to this set.
    public let name: String
    public let addresses: [String: [String]]
    private var removed = false
    static let script = repositoryRoot.appendingPathComponent("scripts/hosts.sh")
    static let ip = URL(fileURLWithPath: "/usr/sbin/ip")

    /// Nil where test hosts can be made here; otherwise why not (the tests are then skipped
    /// with it): namespaces need root, iproute2 and nftables.
    public static let unavailable: String? = {
        guard geteuid() == 0 else { return "test hosts need root (network namespaces)" }
        for tool in ["/usr/sbin/ip", "/usr/sbin/nft", "/usr/sbin/tc"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing: run `make setup`"
        }
        let probe = "stpprobe\(getpid() % 100_000)"
        guard let made = try? runCommand(ip, ["netns", "add", probe], timeout: 10), made.status == 0 else {
            return "this machine forbids network namespaces (ip netns add failed)"
        }
        _ = try? runCommand(ip, ["netns", "del", probe], timeout: 10)
        return nil
    }()

    /// - Parameter hosts: each host's name (1-8 lower-case letters or digits) and addresses, the
    ///   first its main one.
    public init(_ hosts: [(String, [String])]) throws {
        if let why = Self.unavailable { throw ProcessFailure(description: why) }
        name = "s" + UUID().uuidString.prefix(6).lowercased().filter { $0.isLetter || $0.isNumber }
        addresses = Dictionary(uniqueKeysWithValues: hosts)
        do { try script(["up", name] + hosts.map { "\($0.0)=\($0.1.joined(separator: ","))" }) } catch {
            remove()
            throw error
        }
    }

    /// The host's main address.
    public func address(_ host: String) -> String { addresses[host]?.first ?? "?" }

    /// The command prefix that runs a program on `host`.
    public func inside(_ host: String) -> [String] { [Self.ip.path, "netns", "exec", "\(name)-\(host)"] }

    /// Runs a command on `host` to its end.
    @discardableResult
    public func run(_ host: String, _ command: [String], timeout: Double = 30) throws -> CommandResult {
        try runCommand(Self.ip, Array(inside(host).dropFirst()) + command, timeout: timeout)
    }

    /// Waits until something accepts TCP connections at `address:port`, seen from `host`.
    public func waitForPort(from host: String, _ address: String, _ port: Int, timeout: Double = 15) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? run(host, ["/bin/bash", "-c", "exec 3<>/dev/tcp/\(address)/\(port)"], timeout: 5))?.status == 0 { return }
            usleep(100_000)
        }
        throw ProcessFailure(description: "nothing listens on \(address):\(port) (seen from \(host)) after \(timeout) s")
    }

    /// `host` can no longer reach `peer`'s address, nor be reached from it (packets dropped both
    /// ways by nftables: TCP connections stall, as over a broken link).
    public func cut(_ host: String, from peer: String) throws { try script(["cut", name, host, address(peer)]) }

    /// `percent` % of the packets between `host` and `peer` (nil: any host) are dropped at random
    /// (nftables numgen), each way.
    public func loss(_ host: String, to peer: String?, percent: Int) throws {
        try script(["loss", name, host, peer.map(address) ?? "all", String(percent)])
    }

    /// `host`'s link carries `kbit` kbit/s each way (tc on both ends of its veth): all of it
    /// (tbf), or only what goes to and from `peer` (an htb class).
    public func limit(_ host: String, kbit: Int, to peer: String? = nil) throws {
        try script(["rate", name, host, String(kbit)] + (peer.map { [address($0)] } ?? []))
    }

    /// Packets `host`'s cut and loss rules have dropped so far (the fault did happen).
    public func dropped(_ host: String) throws -> Int {
        Int(try script(["dropped", name, host]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Undoes `cut`, `loss` and `limit` on `host`.
    public func heal(_ host: String) throws { try script(["heal", name, host]) }

    /// Runs scripts/hosts.sh; returns what it printed.
    @discardableResult
    private func script(_ arguments: [String]) throws -> String {
        let result = try runCommand(URL(fileURLWithPath: "/bin/bash"), [Self.script.path] + arguments, timeout: 30)
        guard result.status == 0 else {
            throw ProcessFailure(description: "hosts.sh \(arguments.joined(separator: " ")): exit \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    /// Kills what runs inside and removes every namespace (and with them their rules and qdiscs).
    public func remove() {
        guard !removed else { return }
        removed = true
        try? script(["down", name])
    }

    deinit { remove() }
}
