import StampedeModel

/// When work starts on one worker's connections. One case per load model, each owning its data;
/// events in (the schedule begins, a tick, a connection is ready, a request goes out, a
/// connection retires), decisions out. The worker carries the decisions out on its sockets and
/// timers; nothing here touches either, so it is tested in memory with any clock. Times are
/// monotonic ns.
struct Schedule {
    enum Model {
        /// Avalanche: each connection sends again as soon as its response ends.
        case closedLoop
        /// Avalanche stages: how many connections are open follows the stages' target.
        case ramp(Ramp)
        /// Tsunami by delay or rate (or stages as the integral of the rate): every request has a
        /// slot, due at its intended instant.
        case paced(PacedSlots)
        /// Tsunami with a session rate: sessions arrive on their own schedule, each waiting for
        /// a free connection (the open model).
        case arrivals(Arrivals)
        /// Avalanche steered while it runs: as many connections as wanted send, or none while
        /// paused (`held`, beside the model: a payload here made every copy of it dearer).
        case held
    }

    /// What a connection ready for its next request does now.
    enum Turn: Equatable {
        /// Its part in the run is over: the budget is spent, or its next slot is past the end.
        case retire
        /// The ramp does not want it now: it closes and stays in the run.
        case rest
        /// It has no session: it waits for an arrival.
        case awaitArrival
        /// Paused: it keeps its socket and waits for the resume (or the end).
        case hold
        /// Its next slot is later.
        case wait(until: UInt64)
        /// Send now.
        case send
    }

    var model: Model
    /// Requests this worker may still send (`Int.max`: a timed run).
    private(set) var budget: Int
    /// Sessions this worker may still start (`sessions: N`; `Int.max`: no count).
    private(set) var sessionBudget: Int
    /// The measured schedule's start (set by `begin`) and, for a timed run, its end.
    private(set) var startAt: UInt64 = 0
    var stopAt: UInt64?
    /// When a pause began (steering), until the resume.
    var pausedSince: UInt64?
    /// The `held` model's users (steering an avalanche).
    var held = Held(total: 0, offset: 0, count: 0, allocated: 1)
    /// Seconds a timed run lasts (its duration, or its stages'); nil: it ends on its budget.
    private let runSeconds: Double?

    /// How far past the end a tsunami's slot due before it may still go out: a reactor running
    /// late sends what was due, so the count is the rate times the duration.
    static let lateSlotGraceNs: UInt64 = 1_000_000_000

    /// - Parameters:
    ///   - connections: this worker's connections; `offset`: the driver-wide index of its first.
    ///   - budget: requests this worker may send (`Int.max` for a timed run).
    ///   - timeoutNs: how long an arrival may wait for a free connection before it is dropped.
    init(_ spec: LoadSpec, connections: Int, offset: Int, budget: Int, sessionBudget: Int = .max, timeoutNs: UInt64) {
        self.budget = budget
        self.sessionBudget = sessionBudget
        switch spec.stop {
        case .duration(let s): runSeconds = s
        case .stages(let profile): runSeconds = profile.duration
        case .requests, .sessions: runSeconds = nil
        }
        let clock = SlotClock(perSecond: spec.slotsPerSecond, stages: spec.stages, driverConnections: spec.connections,
                              offset: offset, count: connections)
        switch (spec.mode, spec.stages) {
        // Room to raise the users while it runs: those past the start's number rest until wanted.
        case (.avalanche, nil) where spec.allocatedConnections > spec.connections:
            model = .held
            held = Held(total: spec.connections, offset: offset, count: connections, allocated: spec.allocatedConnections)
        case (.avalanche, nil): model = .closedLoop
        case (.avalanche, let profile?): model = .ramp(Ramp(profile, offset: offset, count: connections))
        case (.tsunami, _) where spec.pacesSessions: model = .arrivals(Arrivals(clock, timeoutNs: timeoutNs))
        case (.tsunami, _): model = .paced(PacedSlots(clock))
        }
        switch model {
        case .closedLoop: kind = .closedLoop
        case .ramp(let ramp): kind = .ramp; rampWanted = ramp.wanted
        case .paced: kind = .paced
        case .arrivals: kind = .arrivals
        case .held: kind = .held
        }
        isTsunami = kind == .paced || kind == .arrivals
        pacesRequests = kind == .paced
        pacesSessions = kind == .arrivals
    }

    /// The model's case, as a plain byte. The request path asks it several times per request:
    /// reading the model's own tag went through an outlined function and a copy of the whole
    /// model (callgrind: about 100 instructions a request).
    enum Kind: UInt8 { case closedLoop, ramp, paced, arrivals, held }
    let kind: Kind
    /// The ramp's wanted connections (avalanche stages), kept beside the model for the same reason.
    private(set) var rampWanted = 0

    /// Tsunami (paced or by arrivals): latency counts from an intended instant, and service
    /// time is measured beside it.
    /// (Stored, as `kind`: a computed property of the worker's schedule is read from a copy of
    /// the whole schedule.)
    let isTsunami: Bool

    /// Requests are paced one by one (not sessions by arrival).
    let pacesRequests: Bool

    let pacesSessions: Bool

    // MARK: Events

    /// The measured schedule begins at `start`: a timed run's end is fixed, and slots and
    /// arrivals count from here. Returns when the first arrival is due (the timer to arm).
    mutating func begin(at start: UInt64) -> UInt64? {
        startAt = start
        stopAt = runSeconds.map { start + UInt64($0 * 1e9) }
        let stopAt = stopAt
        switch model {
        case .closedLoop, .ramp, .held: return nil
        case .paced: modifyPaced { $0.begin(at: start, stopAt: stopAt) }; return nil
        case .arrivals: return modifyArrivals { $0.begin(at: start, stopAt: stopAt) } ?? nil
        }
    }

    /// A timed run is over at `now` (a tsunami's slots due before the end get their grace).
    @inline(__always)
    func isPastEnd(_ now: UInt64) -> Bool {
        guard let stopAt else { return false }
        return now >= stopAt + (isTsunami ? Self.lateSlotGraceNs : 0)
    }

    /// What connection `i` does now that it is ready for its next request. `nextSend`: its
    /// next slot (paced); `hasSession`: it holds an arrival or a session under way; `hop`: the
    /// next send is a redirect's hop, which goes when the response before it ends.
    @inline(__always)
    func turn(connection i: Int, nextSend: UInt64, hasSession: Bool, hop: Bool, now: UInt64) -> Turn {
        if budget == 0 { return .retire }
        switch kind {
        // A counted run of sessions: a connection between sessions starts one only while any are left.
        case .closedLoop: return hasSession || sessionBudget > 0 ? .send : .retire
        case .ramp: return i < rampWanted ? .send : .rest
        case .arrivals: return hasSession ? .send : .awaitArrival
        case .held:
            if held.paused && !hop { return .hold }
            if i >= held.wanted { return .rest }
            return hasSession || sessionBudget > 0 ? .send : .retire
        case .paced:
            if hop { return .send }
            // A slot at or after the end of a timed run is not part of it (even when the
            // response before it ended late); paused, no slot is due until the resume. (No
            // payload bound here: copying the paced slots out of the model costs a memcpy.)
            if let stopAt, nextSend >= stopAt { return nextSend == .max && pausedSince != nil ? .hold : .retire }
            return nextSend > now ? .wait(until: nextSend) : .send
        }
    }

    /// A session starts (its first request goes out).
    @inline(__always)
    mutating func startSession() {
        if sessionBudget != .max { sessionBudget -= 1 }
    }

    /// A request goes out. Returns true when it was the last of the budget.
    @inline(__always)
    mutating func spend() -> Bool {
        budget -= 1
        return budget == 0
    }

    /// When connection `i`'s slot after `scheduled` sends is due (paced; `.max` when the
    /// stages end first).
    @inline(__always)
    func sendTime(connection i: Int, scheduled: Int) -> UInt64 {
        guard case .paced(let slots) = model else { return .max }
        return slots.clock.sendTime(connection: i, scheduled: scheduled)
    }

    /// Connection `i` retires after `scheduled` sends. Returns its slots due before the end
    /// that it never sent (`unsent`; each also counted in the second it was due), and forgets
    /// it as a free connection.
    mutating func retired(connection i: Int, scheduled: Int) -> Int {
        switch model {
        case .paced: return modifyPaced { $0.retired(connection: i, scheduled: scheduled) } ?? 0
        case .arrivals:
            modifyArrivals { $0.slotGone(i) }
            return 0
        case .closedLoop, .ramp, .held: return 0
        }
    }

    /// Avalanche stages, on each tick: how many of this worker's connections the ramp wants now
    /// (nil: no ramp).
    mutating func follow(now: UInt64) -> Int? {
        guard case .ramp(var ramp) = model else { return nil }
        let wanted = ramp.follow(at: Double(now &- startAt) / 1e9)
        model = .ramp(ramp)
        rampWanted = wanted
        return wanted
    }

    /// How many connections the ramp wants before the schedule begins (all of them without one).
    var initiallyWanted: Int? {
        switch model {
        case .ramp(let ramp): ramp.wanted
        case .held: held.wanted
        default: nil
        }
    }

    /// The slots this worker was due to send before the end of a timed tsunami, by the second
    /// (those it could not send).
    var unsentPerSecond: [Int] {
        if case .paced(let slots) = model { slots.unsentPerSecond } else { [] }
    }

    // MARK: Arrivals (the open model)

    /// Arrivals due by `now` join the queue. Returns when the next one is due (the timer to
    /// arm), nil when none is due before the end.
    mutating func arrivalsDue(now: UInt64) -> UInt64? {
        let stopAt = stopAt
        return modifyArrivals { $0.due(now: now, stopAt: stopAt) } ?? nil
    }

    /// Connection `i` has no session and waits for an arrival.
    mutating func slotFreed(_ i: Int) {
        modifyArrivals { $0.slotFreed(i) }
    }

    /// The next thing to do with the queue: give the oldest arrival to a free connection, or
    /// drop one that waited past the timeout. nil: nothing now.
    mutating func dispatch(now: UInt64) -> Arrivals.Dispatch? {
        modifyArrivals { $0.dispatch(now: now) } ?? nil
    }

    /// The run ends: the arrivals still waiting never started (dropped). Returns how many.
    mutating func dropWaiting() -> Int {
        modifyArrivals { $0.dropAll() } ?? 0
    }

    // MARK: Changing a case's data in place

    /// Runs `body` on the paced slots, with the model's own copy moved out first so the
    /// arrays inside are uniquely held (no copy-on-write).
    @discardableResult
    mutating func modifyPaced<R>(_ body: (inout PacedSlots) -> R) -> R? {
        guard case .paced(var slots) = model else { return nil }
        model = .closedLoop
        defer { model = .paced(slots) }
        return body(&slots)
    }

    @discardableResult
    mutating func modifyArrivals<R>(_ body: (inout Arrivals) -> R) -> R? {
        guard case .arrivals(var arrivals) = model else { return nil }
        model = .closedLoop
        defer { model = .arrivals(arrivals) }
        return body(&arrivals)
    }
}
