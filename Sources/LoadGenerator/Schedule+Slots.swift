import StampedeModel

/// The instants of a tsunami's slots. The driver's slot n is due n / rate seconds in at a
/// constant pace (computed from n each time, so slots never drift and none lands on the end by
/// rounding), or where the integral of the stages' rate reaches n. The driver's connection g of
/// C takes slots g, g + C, g + 2C, …: the connections, and so the threads, share the rate exactly.
struct SlotClock {
    /// The driver's slots per second at a constant pace (its rate, or its connections' delay
    /// turned into one); nil: the stages set the rate.
    let perSecond: Double?
    let stages: StageProfile?
    /// The driver's connections (C), this worker's first one's index among them, and how many
    /// this worker has.
    let driverConnections: Int
    let offset: Int
    let count: Int
    var startAt: UInt64 = 0
    /// A constant pace changed or paused while the run goes (steering); nil: never changed.
    /// Boxed (a new box per change, never mutated): inline, it made the schedule's model too big
    /// to copy in registers, and every request paid three memcpys for it (callgrind).
    var changed: PaceBox?
    var changes: Pace? { changed?.pace }

    /// When the driver's slot `n` is due; `.max` when the stages end first or it is paused.
    @inline(__always)
    func time(ofSlot n: Int) -> UInt64 {
        if let perSecond {
            guard let changes else { return startAt + UInt64((Double(n) / perSecond * 1e9).rounded()) }
            return changes.time(atIntegral: Double(n)).map { startAt + UInt64(($0 * 1e9).rounded()) } ?? .max
        }
        guard let stages, let t = stages.time(atIntegral: Double(n)) else { return .max }
        return startAt + UInt64(t * 1e9)
    }

    /// When this worker's connection `i` sends after `scheduled` sends.
    @inline(__always)
    func sendTime(connection i: Int, scheduled: Int) -> UInt64 {
        time(ofSlot: scheduled * driverConnections + offset + i)
    }

    /// When this worker's `k`-th session arrives. The driver's arrivals are numbered as its
    /// slots are, and this worker takes those of its connections' places (g mod C in its range).
    func arrivalTime(_ k: Int) -> UInt64 {
        let g = Double((k / count) * driverConnections + offset + k % count)
        if let stages {
            guard let t = stages.time(atIntegral: g) else { return .max }
            return startAt + UInt64(t * 1e9)
        }
        guard let perSecond else { return .max }
        guard let changes else { return startAt + UInt64(g / perSecond * 1e9) }
        return changes.time(atIntegral: g).map { startAt + UInt64($0 * 1e9) } ?? .max
    }

    /// The pace from `atS` seconds after the start on (a constant pace only).
    mutating func change(_ body: (inout Pace) -> Void) -> Bool {
        guard let perSecond else { return false }
        var pace = changes ?? Pace(base: perSecond)
        body(&pace)
        changed = PaceBox(pace)
        return true
    }

    /// The driver's slots due before `stopAt`, settled against the slot times themselves.
    func slots(before stopAt: UInt64) -> Int {
        let end = Double(stopAt - startAt) / 1e9
        var n: Int
        if let changes {
            n = Int(changes.integral(to: end).rounded(.up))
        } else if let perSecond {
            n = Int((end * perSecond).rounded(.up))
        } else if let stages {
            n = Int(stages.integral(to: end).rounded(.up))
        } else {
            return 0
        }
        while n > 0 && time(ofSlot: n - 1) >= stopAt { n -= 1 }
        while time(ofSlot: n) < stopAt { n += 1 }
        return n
    }
}

/// A paced schedule: the slot clock, and for a timed run the slots it intends (exactly rate ×
/// duration for the driver) and those that were never sent, by the second they were due.
struct PacedSlots {
    private(set) var clock: SlotClock
    /// The driver's slots due before the end of a timed run (0: not timed).
    private(set) var intended = 0
    private(set) var unsentPerSecond: [Int] = []

    /// A connection with more unsent slots than this counts them in total only.
    static let perSecondLimit = 10_000_000

    init(_ clock: SlotClock) { self.clock = clock }

    mutating func begin(at start: UInt64, stopAt: UInt64?) {
        clock.startAt = start
        intended = stopAt.map { clock.slots(before: $0) } ?? 0
    }

    /// The pace changes (steering): the slots due before the end follow.
    mutating func change(stopAt: UInt64?, _ body: (inout Pace) -> Void) -> Bool {
        guard clock.change(body) else { return false }
        intended = stopAt.map { clock.slots(before: $0) } ?? 0
        return true
    }

    /// Connection `i` retires after `scheduled` sends: its slots due before the end that it did
    /// not send, each also counted in the second it was due.
    mutating func retired(connection i: Int, scheduled: Int) -> Int {
        guard intended > 0 else { return 0 }
        let g = clock.offset + i, c = clock.driverConnections
        let mine = g < intended ? (intended - g + c - 1) / c : 0
        let unsent = Swift.max(0, mine - scheduled)
        guard unsent > 0, unsent <= Self.perSecondLimit else { return unsent }
        var n = scheduled * c + g
        while n < intended {
            let second = Int((clock.time(ofSlot: n) &- clock.startAt) / 1_000_000_000)
            if second >= unsentPerSecond.count { unsentPerSecond += Array(repeating: 0, count: second + 1 - unsentPerSecond.count) }
            unsentPerSecond[second] += 1
            n += c
        }
        return unsent
    }
}

/// Avalanche stages: the number of open connections follows the target (per driver); one the
/// ramp no longer wants finishes its request in flight, then rests (no socket) until it is
/// wanted again.
struct Ramp {
    let profile: StageProfile
    let offset: Int
    let count: Int
    /// Of this worker's connections, how many the ramp wants open now.
    private(set) var wanted: Int

    init(_ profile: StageProfile, offset: Int, count: Int) {
        self.profile = profile
        self.offset = offset
        self.count = count
        wanted = 0
        wanted = wanted(at: 0)
    }

    /// This worker's share at `t` seconds: the driver's target rounded, less the connections of
    /// the threads before this one.
    func wanted(at t: Double) -> Int {
        let total = Int(profile.target(at: t).rounded())
        return Swift.min(Swift.max(total - offset, 0), count)
    }

    mutating func follow(at t: Double) -> Int {
        wanted = wanted(at: t)
        return wanted
    }
}

/// A changed pace, shared read-only by copies of the slot clock.
final class PaceBox: Sendable {
    let pace: Pace
    init(_ pace: Pace) { self.pace = pace }
}
