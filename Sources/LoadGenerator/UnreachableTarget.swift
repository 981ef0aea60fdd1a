import StampedeModel

/// When failed connects say the target will not answer, so the run ends with the reason
/// instead of spinning on reconnects.
enum UnreachableTarget {
    /// Nothing ever connected after this many failed connects per connection (at least
    /// `minimumConnectFailures`); or every connection failed its handshake and none ever
    /// succeeded (a wrong scheme or certificate will not fix itself).
    static func isEvident(_ totals: LoadCounters, connections: Int) -> Bool {
        if totals.connects == 0 && totals.errors.connect >= Swift.max(minimumConnectFailures, connectFailuresPerConnection * connections) { return true }
        return totals.tlsHandshakes == 0 && totals.errors.tls >= connections
    }

    static let minimumConnectFailures = 10
    static let connectFailuresPerConnection = 3
}
