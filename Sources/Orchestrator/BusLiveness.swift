/// Whether the bus itself delivers: the orchestrator sends itself a probe on the heartbeat topic
/// every tick. While its probes do not come back the bus (not the drivers) is stalled, so no driver
/// is failed for silence; once they do, drivers get a full heartbeat timeout from that moment.
struct BusLiveness {
    /// Our probe's sender id; other orchestrators' probes share the prefix and are ignored.
    static let probePrefix = "orchestrator-probe-"
    let probeID: String
    /// How long without our own probe before the bus counts as stalled.
    let stallAfterNs: UInt64 = 1_000_000_000
    private(set) var lastProbeSeen: UInt64
    /// When the bus last came back: silence before this is not a driver's fault.
    private(set) var recoveredAt: UInt64 = 0
    private(set) var stalled = false

    init(probeID: String, now: UInt64) {
        self.probeID = probeID
        lastProbeSeen = now
    }

    /// Our probe came back. True when that ends a stall.
    mutating func probeArrived(now: UInt64) -> Bool {
        lastProbeSeen = now
        guard stalled else { return false }
        stalled = false
        recoveredAt = now
        return true
    }

    /// Checks for a new stall. True when the bus has just become stalled.
    mutating func check(now: UInt64) -> Bool {
        guard !stalled, now &- lastProbeSeen > stallAfterNs else { return false }
        stalled = true
        return true
    }

    /// True while stalled for longer than `timeoutMs` (running tests cannot complete).
    func silentLongerThan(ms timeoutMs: Int, now: UInt64) -> Bool {
        stalled && now &- lastProbeSeen > UInt64(timeoutMs) * 1_000_000
    }
}
