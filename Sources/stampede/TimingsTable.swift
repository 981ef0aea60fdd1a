import StampedeModel

/// The summary's table of where the time went: per name (or the whole test when there are no
/// names), waiting (time to first byte) and receiving p50/p99, then the new connections it
/// opened with their TCP connect and TLS handshake p50/p99.
func printTimings(_ report: LoadReport) {
    let rows = report.timingRows
    guard !rows.isEmpty else { return }
    let width = Swift.min(40, Swift.max(12, rows.map(\.name.count).max() ?? 12)) + 2
    func cells(_ s: LatencySummary?) -> String {
        guard let s else { return "-".leftPadded(to: 10) + "-".leftPadded(to: 10) }
        return formatMicros(Double(s.p50)).leftPadded(to: 10) + formatMicros(Double(s.p99)).leftPadded(to: 10)
    }
    print("  Where the time went: waiting = last byte sent to first byte back, receiving = first byte to the end;")
    print("  new connections, each: TCP connect, TLS handshake")
    print("  " + "".padding(toLength: width, withPad: " ", startingAt: 0)
          + "waiting".leftPadded(to: 20) + "receiving".leftPadded(to: 20) + "new".leftPadded(to: 10)
          + "connect".leftPadded(to: 20) + "TLS".leftPadded(to: 20))
    print("  " + "Name".padding(toLength: width, withPad: " ", startingAt: 0)
          + ["p50", "p99", "p50", "p99", "conns", "p50", "p99", "p50", "p99"].map { $0.leftPadded(to: 10) }.joined())
    for r in rows {
        print("  " + String(r.name.prefix(40)).padding(toLength: width, withPad: " ", startingAt: 0)
              + cells(r.waiting) + cells(r.receiving) + String(r.connects).leftPadded(to: 10) + cells(r.connect) + cells(r.tls))
    }
}
