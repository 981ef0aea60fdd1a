import StampedeModel

/// An avalanche steered while it runs: how many of this worker's connections send, and whether
/// they are paused. The driver's number is dealt over its threads in proportion to the
/// connections each holds (the shares add up to it exactly), so raised or lowered users stay
/// spread over the threads.
struct Held {
    let offset: Int
    let count: Int
    /// The driver's connections allocated (its `max_connections`).
    let allocated: Int
    private(set) var wanted = 0
    var paused = false

    init(total: Int, offset: Int, count: Int, allocated: Int) {
        self.offset = offset
        self.count = count
        self.allocated = Swift.max(allocated, 1)
        set(total: total)
    }

    mutating func set(total: Int) {
        let n = Swift.min(Swift.max(total, 0), allocated)
        wanted = n * (offset + count) / allocated - n * offset / allocated
    }
}

/// Steering: a change applied to a running schedule at an instant, and what the worker must do
/// about it on its connections.
extension Schedule {
    /// A steerable avalanche's connections that send now (the rest rest); nil for other models.
    var sendingConnections: Int? {
        if case .held = model { Swift.max(held.wanted, 1) } else { nil }
    }

    enum ChangeEffect: Equatable {
        /// Connections waiting for a slot (or held by a pause) look again: their slot moved.
        case wakeWaiting
        /// As many connections as wanted send; the rest rest.
        case follow(wanted: Int)
        /// The arrivals' timer moves (nil: none before the end).
        case rearmArrivals(UInt64?)
    }

    /// Applies `kind` at `t` (monotonic ns; before the schedule began: at its start). nil: the
    /// model has no such setting (the orchestrator refuses those before they reach a driver).
    mutating func apply(_ kind: LoadChange.Kind, at t: UInt64, pauseExtends: Bool) -> ChangeEffect? {
        let atS = t > startAt ? Double(t - startAt) / 1e9 : 0
        let end = stopAt
        switch (kind, model) {
        case (.rate(let r), .paced):
            return changePace(stopAt: stopAt) { $0.set(r, atS: atS) } ? .wakeWaiting : nil
        case (.sessionRate(let r), .arrivals):
            return (modifyArrivals { $0.change(stopAt: end) { $0.set(r, atS: atS) } } ?? nil).map { .rearmArrivals($0) }
        case (.connections(let n), .held):
            held.set(total: n)
            return held.paused ? nil : .follow(wanted: held.wanted)
        case (.pause, .paced):
            if pausedSince == nil { pausedSince = t }
            return changePace(stopAt: stopAt) { $0.pause(atS: atS) } ? .wakeWaiting : nil
        case (.pause, .arrivals):
            if pausedSince == nil { pausedSince = t }
            return (modifyArrivals { $0.change(stopAt: end) { $0.pause(atS: atS) } } ?? nil).map { .rearmArrivals($0) }
        case (.pause, .held):
            if pausedSince == nil { pausedSince = t }
            held.paused = true
            return .follow(wanted: held.wanted)
        case (.resume, .paced):
            extendIfPaused(until: t, pauseExtends)
            return changePace(stopAt: stopAt) { $0.resume(atS: atS) } ? .wakeWaiting : nil
        case (.resume, .arrivals):
            extendIfPaused(until: t, pauseExtends)
            let extended = stopAt
            return (modifyArrivals { $0.change(stopAt: extended) { $0.resume(atS: atS) } } ?? nil).map { .rearmArrivals($0) }
        case (.resume, .held):
            extendIfPaused(until: t, pauseExtends)
            held.paused = false
            return .follow(wanted: held.wanted)
        default:
            return nil
        }
    }

    /// Paused: `pausedSince` is set; on the resume a run with `pause_extends` ends later by the
    /// paused time.
    private mutating func extendIfPaused(until t: UInt64, _ extend: Bool) {
        defer { pausedSince = nil }
        guard extend, let since = pausedSince, let end = stopAt, t > since else { return }
        stopAt = end + (t - since)
    }

    private mutating func changePace(stopAt: UInt64?, _ body: (inout Pace) -> Void) -> Bool {
        modifyPaced { $0.change(stopAt: stopAt, body) } ?? false
    }
}
