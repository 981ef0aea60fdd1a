import Glibc
import StampedeWire

/// `--allow-target`: the hosts and networks an orchestrator may aim drivers at. Entries are host
/// names (matched exactly, case-insensitively; never resolved, since DNS answers can change), IP
/// addresses, or CIDR blocks (`10.0.0.0/8`, `fd00::/8`), which match IP-literal targets.
public struct TargetAllowList: Sendable {
    enum Entry: Sendable {
        case host(String)
        case network(address: [UInt8], prefix: Int)
    }
    let entries: [Entry]

    /// - Throws: `FieldError` (field "allow-target") for an entry that is neither a host nor a
    ///   valid address or CIDR block.
    public init(_ texts: [String]) throws(FieldError) {
        var entries: [Entry] = []
        for text in texts {
            let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
            if let address = Self.parseIP(parts[0]) {
                let bits = address.count * 8
                let prefix = parts.count == 2 ? Int(parts[1]) ?? -1 : bits
                guard (0...bits).contains(prefix) else { throw FieldError("allow-target", "bad prefix length in '\(text)'") }
                entries.append(.network(address: address, prefix: prefix))
            } else {
                guard parts.count == 1, !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }) else {
                    throw FieldError("allow-target", "'\(text)' is neither a host name, an IP address nor a CIDR block")
                }
                entries.append(.host(text.lowercased()))
            }
        }
        self.entries = entries
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// Whether `host` (as written in a URL, IPv6 without brackets) may be a target.
    public func allows(_ host: String) -> Bool {
        if entries.isEmpty { return true }
        if let address = Self.parseIP(host) {
            return entries.contains { entry in
                guard case .network(let network, let prefix) = entry, network.count == address.count else { return false }
                return Self.samePrefix(address, network, bits: prefix)
            }
        }
        let name = host.lowercased()
        return entries.contains { if case .host(let h) = $0 { return h == name } else { return false } }
    }

    static func parseIP(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
        return nil
    }

    static func samePrefix(_ a: [UInt8], _ b: [UInt8], bits: Int) -> Bool {
        var remaining = bits
        for i in a.indices where remaining > 0 {
            let take = Swift.min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
            if a[i] & mask != b[i] & mask { return false }
            remaining -= take
        }
        return true
    }
}
