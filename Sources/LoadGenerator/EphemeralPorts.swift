import Foundation

/// This host's ephemeral port range (`net.ipv4.ip_local_port_range`). It bounds the connections one
/// local address holds to one destination, and slows down well before that: once more than half
/// of it is in use, Linux's connect() searches the range for a free port on every connect (the
/// half of its preferred parity first), so opening thousands of connections takes seconds.
public struct EphemeralPorts: Sendable {
    public let low: Int
    public let high: Int

    public init(low: Int, high: Int) {
        self.low = low
        self.high = high
    }

    public var count: Int { high - low + 1 }

    /// The range in force, or nil where the host does not say (not Linux, or no /proc): the note
    /// below is then not given.
    public static func current(path: String = "/proc/sys/net/ipv4/ip_local_port_range") -> EphemeralPorts? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        let bounds = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard bounds.count == 2, bounds[0] <= bounds[1] else { return nil }
        return EphemeralPorts(low: bounds[0], high: bounds[1])
    }

    /// Advice when `sockets` sockets from one local address would use more than half the range.
    public func crowdingNote(socketsPerAddress sockets: Int) -> String? {
        guard sockets > count / 2 else { return nil }
        return "\(sockets) sockets from one local address use more than half of this host's ephemeral ports (\(low)-\(high)): "
            + "past half, Linux's connect() searches the range for a free port on every connect and opening the "
            + "connections takes seconds; spread them over local addresses with --source-addrs (source_addrs)"
    }
}
