import StampedeModel

/// Where a request's time went (`Timings`): a new connection's TCP connect and TLS handshake, and
/// each response's waiting (last byte written to first byte read) and receiving (first byte to
/// end), recorded in the whole second's figures and under the request's name.
extension Worker {
    /// A connection was established: its connect (and handshake) counted under the request it
    /// opened for (the next one chosen, or the one it resends).
    func recordConnectTimings(_ i: Int, _ end: ConnectionStateMachine.ConnectEnd, tls: Bool, now: UInt64) {
        let connectUs = Int64((end.connectedAt &- end.startedAt + 500) / 1000)
        let tlsUs = Int64((now &- end.connectedAt + 500) / 1000)
        figures.second.timings.connect.record(connectUs)
        if tls { figures.second.timings.tls.record(tlsUs) }
        guard workload.tracksNames else { return }
        let n = facts[conns[i].next ?? conns[i].current].nameIndex
        figures.second.byName[position: n].timings.connect.record(connectUs)
        if tls { figures.second.byName[position: n].timings.tls.record(tlsUs) }
    }

    /// A whole response was read at `now`: its waiting and receiving times. Read in one go, its
    /// first byte is its end (no clock reading of its own).
    @inline(__always)
    func recordResponseTimings(_ i: Int, now: UInt64) {
        let firstByte = conns[i].firstByteAt == 0 ? now : conns[i].firstByteAt
        conns[i].firstByteAt = 0
        // A request resent on a fresh connection was written after its first send: timed from
        // its last write, never before it.
        let waitingUs = Int64((firstByte &- Swift.min(conns[i].writtenAt, firstByte) + 500) / 1000)
        let receivingUs = Int64((now &- firstByte + 500) / 1000)
        figures.second.timings.waiting.record(waitingUs)
        figures.second.timings.receiving.record(receivingUs)
        guard workload.tracksNames else { return }
        let n = currentNameIndex(i)
        figures.second.byName[position: n].timings.waiting.record(waitingUs)
        figures.second.byName[position: n].timings.receiving.record(receivingUs)
    }
}
