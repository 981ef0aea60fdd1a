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

    /// Most responses are read in one go from a request written at its intended time: their
    /// waiting is their latency to the microsecond and their receiving 0, so they are only
    /// counted, and the second's waiting histogram is made from its latency histogram when the
    /// second ends (`WorkerFigures.foldTimings`). Exact either way: the common case costs a
    /// compare and an add on the request path; the others are recorded out of line (called after
    /// the response is counted: called before, the branch kept `recordResponse` from being
    /// inlined into `completed`, 60 instructions a request by callgrind). Called once a response
    /// is counted, while the request's name is still the one its latency went under.
    @inline(__always)
    func recordTimings(_ i: Int, latencyUs: Int64, now: UInt64) {
        if !workload.tracksNames && conns[i].firstByteAt == 0 && conns[i].writtenAt == conns[i].intendedAt {
            figures.waitingIsLatency += 1
        } else {
            recordResponseTimings(i, latencyUs: latencyUs, now: now)
        }
    }

    /// A whole response was read at `now`: its waiting and receiving times, recorded (its first
    /// byte is its end when it was read in one go: no clock reading of its own), and under its
    /// name; one read in one go from a request written at its intended time is only counted.
    @inline(never)
    func recordResponseTimings(_ i: Int, latencyUs: Int64, now: UInt64) {
        let firstByteAt = conns[i].firstByteAt
        let n = workload.tracksNames ? currentNameIndex(i) : -1
        if firstByteAt == 0 && conns[i].writtenAt == conns[i].intendedAt {
            figures.waitingIsLatency += 1
            if n >= 0 { figures.namesWaitingIsLatency[n] += 1 }
            return
        }
        conns[i].firstByteAt = 0
        let firstByte = firstByteAt == 0 ? now : firstByteAt
        // A request resent on a fresh connection was written after its first send: timed from
        // its last write, never before it.
        let waitingUs = Int64((firstByte &- Swift.min(conns[i].writtenAt, firstByte) + 500) / 1000)
        let receivingUs = Int64((now &- firstByte + 500) / 1000)
        figures.second.timings.waiting.record(waitingUs)
        figures.second.timings.receiving.record(receivingUs)
        figures.latencyOfOthers.record(latencyUs)
        guard n >= 0 else { return }
        figures.second.byName[position: n].timings.waiting.record(waitingUs)
        figures.second.byName[position: n].timings.receiving.record(receivingUs)
        figures.namesLatencyOfOthers[n].record(latencyUs)
    }
}
