import StampedeWire

/// One NTP-style exchange with a driver: the orchestrator sent a probe at `sent` (its clock), the
/// driver received it at `received` and sent its heartbeat at `echoed` (the driver's clock), the
/// orchestrator read that heartbeat at `read` (its clock). All µs since the epoch.
struct ClockExchange: Equatable {
    let sent: Int64
    let received: Int64
    let echoed: Int64
    let read: Int64

    /// The driver's clock minus the orchestrator's, assuming the two legs took equally long: off by
    /// at most half the round trip.
    var offsetUs: Int64 { ((received - sent) + (echoed - read)) / 2 }
    /// Time on the wire both ways, without the time the driver held the probe.
    var roundTripUs: Int64 { (read - sent) - (echoed - received) }
}

/// A driver's clock offset from its recent exchanges. The estimate is the exchange with the
/// shortest round trip among the last `window` (as NTP's clock filter does): a leg held up in a
/// broker's queue makes the round trip long and the offset wrong by up to half of it, so the
/// quickest exchange is the one to trust.
struct ClockOffsetEstimate {
    static let window = 8
    private(set) var recent: [ClockExchange] = []

    /// Adds an exchange; one that makes no sense (a negative round trip: a clock stepped between
    /// its readings) is left out.
    mutating func add(_ exchange: ClockExchange) {
        guard exchange.roundTripUs >= 0 else { return }
        recent.append(exchange)
        if recent.count > Self.window { recent.removeFirst(recent.count - Self.window) }
    }

    private var best: ClockExchange? { recent.min { $0.roundTripUs < $1.roundTripUs } }

    /// The driver's clock minus the orchestrator's, ms (nil before the first exchange).
    var offsetMs: Double? { best.map { Double($0.offsetUs) / 1_000 } }
    /// The round trip of the exchange the offset comes from, ms.
    var roundTripMs: Double? { best.map { Double($0.roundTripUs) / 1_000 } }
}

extension ClockExchange {
    /// The exchange a heartbeat completes, if it echoes a probe of `orchestratorID` and carries its
    /// µs send time; `readUs` is when the orchestrator read it.
    init?(_ heartbeat: HeartbeatMessage, orchestratorID: String, readUs: Int64) {
        guard let probe = heartbeat.probe, probe.orchestratorID == orchestratorID, let echoed = heartbeat.sentAtUs else { return nil }
        self.init(sent: probe.sentAtUs, received: probe.receivedAtUs, echoed: echoed, read: readUs)
    }
}
