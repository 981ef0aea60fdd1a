import StampedeModel

/// The open model of users (`session_rate`): sessions arrive on a schedule whatever the target
/// does, each taking a free connection. An arrival that finds none waits in order; its session
/// is timed from the intended arrival, and one still waiting after the timeout is dropped and
/// counted. Free connections are kept in a stack; one that retires is struck off lazily (its
/// flag), so no arrival is ever handed to a connection that left.
struct Arrivals {
    enum Dispatch: Equatable {
        /// Connection `connection` starts the session that arrived at `arrival`.
        case start(connection: Int, arrival: UInt64)
        /// The oldest arrival waited past the timeout: dropped.
        case drop
    }

    private(set) var clock: SlotClock
    let timeoutNs: UInt64
    /// The next arrival's instant (`.max`: none before the end) and how many have come.
    private(set) var next: UInt64 = .max
    private var arrived = 0
    /// Arrivals waiting for a free connection (intended instants, oldest from `head`).
    private var waiting: [UInt64] = []
    private var head = 0
    private var free: [Int] = []
    private var isFree: [Bool]

    init(_ clock: SlotClock, timeoutNs: UInt64) {
        self.clock = clock
        self.timeoutNs = timeoutNs
        isFree = Array(repeating: false, count: clock.count)
    }

    /// Arrivals waiting now.
    var waitingCount: Int { waiting.count - head }

    /// The schedule begins: returns when the first arrival is due.
    mutating func begin(at start: UInt64, stopAt: UInt64?) -> UInt64? {
        clock.startAt = start
        next = clock.arrivalTime(0)
        return timer(stopAt: stopAt)
    }

    /// Arrivals due by `now` join the queue; returns when the next is due.
    mutating func due(now: UInt64, stopAt: UInt64?) -> UInt64? {
        while next <= now, stopAt.map({ next < $0 }) ?? true {
            waiting.append(next)
            arrived += 1
            next = clock.arrivalTime(arrived)
        }
        return timer(stopAt: stopAt)
    }

    private mutating func timer(stopAt: UInt64?) -> UInt64? {
        guard next != .max, stopAt.map({ next < $0 }) ?? true else {
            next = .max
            return nil
        }
        return next
    }

    /// The arrival pace changes (steering): the next arrival moves; returns when it is due.
    mutating func change(stopAt: UInt64?, _ body: (inout Pace) -> Void) -> UInt64?? {
        guard clock.change(body) else { return nil }
        next = clock.arrivalTime(arrived)
        return .some(timer(stopAt: stopAt))
    }

    mutating func slotFreed(_ i: Int) {
        guard !isFree[i] else { return }
        isFree[i] = true
        free.append(i)
    }

    mutating func slotGone(_ i: Int) {
        isFree[i] = false
    }

    /// Drops the oldest arrival if it waited past the timeout, else gives it to a free connection.
    mutating func dispatch(now: UInt64) -> Dispatch? {
        defer { compact() }
        guard head < waiting.count else { return nil }
        let oldest = waiting[head]
        if oldest < now && now &- oldest > timeoutNs {
            head += 1
            return .drop
        }
        while let i = free.popLast() {
            guard isFree[i] else { continue }
            isFree[i] = false
            head += 1
            return .start(connection: i, arrival: oldest)
        }
        return nil
    }

    /// The run ends: every arrival still waiting is dropped; returns how many.
    mutating func dropAll() -> Int {
        let n = waitingCount
        waiting.removeAll()
        head = 0
        return n
    }

    private mutating func compact() {
        if head == waiting.count && head > 0 {
            waiting.removeAll(keepingCapacity: true)
            head = 0
        }
    }
}
