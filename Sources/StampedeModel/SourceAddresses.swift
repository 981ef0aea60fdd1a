import Glibc

/// `--source-addrs` / `source_addrs`: local addresses new connections bind to, round-robin, so
/// one driver is not limited to one address's ephemeral ports (about 28,000 per target).
public enum SourceAddresses {
    public static let maxCount = 1_024

    /// Parses `A-B` (an IPv4 range, both ends included, e.g. `127.0.0.2-127.0.0.9`) or a comma
    /// list `A,B,C` (IPv4 or IPv6 literals).
    /// - Throws: `ConfigError` (setting `sourceAddrs`) naming the part that is not an address.
    public static func parse(_ text: String) throws(ConfigError) -> [String] {
        let trimmed = text.trimmingCharacters(in: [" "])
        if let dash = trimmed.firstIndex(of: "-"), !trimmed.contains(",") {
            let from = String(trimmed[..<dash]), to = String(trimmed[trimmed.index(after: dash)...])
            guard let a = ipv4(from), let b = ipv4(to) else {
                throw ConfigError(.sourceAddrs, "a range is FIRST-LAST of IPv4 addresses, got '\(text)'")
            }
            guard b >= a, b - a < UInt32(maxCount) else {
                throw ConfigError(.sourceAddrs, "the range \(text) must go up and hold at most \(maxCount) addresses")
            }
            return (a...b).map { v in "\(v >> 24).\((v >> 16) & 255).\((v >> 8) & 255).\(v & 255)" }
        }
        let list = trimmed.split(separator: ",").map { $0.trimmingCharacters(in: [" "]) }
        guard !list.isEmpty, list.count <= maxCount else { throw ConfigError(.sourceAddrs, "give 1...\(maxCount) addresses") }
        for item in list where ipv4(item) == nil && !isIPv6(item) {
            throw ConfigError(.sourceAddrs, "'\(item)' is not an IP address (a list is A,B,C; a range FIRST-LAST)")
        }
        return list
    }

    static func ipv4(_ text: String) -> UInt32? {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return UInt32(bigEndian: address.s_addr)
    }

    static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }
}

private extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
