import CLinux
import Glibc

/// Receives readiness events for the descriptors it registered.
public protocol ReactorHandler: AnyObject {
    /// `token` is the value given at registration (e.g. a connection's index).
    func reactor(_ reactor: Reactor, ready events: IOEvents, fd: Int32, token: Int)
}

/// Receives timers it scheduled.
public protocol ReactorTimerHandler: AnyObject {
    /// `now` is the monotonic time (ns) the timer was processed at; `token` as scheduled.
    func reactor(_ reactor: Reactor, timerFired token: Int, now: UInt64)
}

/// One event loop on one thread: epoll (level-triggered), a timerfd holding the earliest deadline,
/// and an eventfd for wake-ups from other threads. Serves client connections, listening sockets
/// and server connections alike.
///
/// Level-triggered because a handler may stop reading before a socket is drained (one read per
/// wake-up keeps thousands of connections fair) and the kernel keeps reporting it; interest changes
/// (EPOLL_CTL_MOD) happen only around connects and partial writes, not per request.
///
/// Thread-safety: use only on the reactor's thread, except through `remote`.
public final class Reactor {
    private let epoll: Epoll
    private var timer: TimerFD
    private let wakeup: ReactorRemote
    private var slots: [Slot] = []
    private var handlers: [ReactorHandler] = []
    private var timerHandlers: [ReactorTimerHandler] = []
    private var timers = TimerHeap()
    private var nextRegistrationID: UInt32 = 1
    private var events: UnsafeMutableBufferPointer<epoll_event>
    private var running = false

    /// Called on the reactor thread after another thread called `wake()`.
    public var onWakeup: (() -> Void)?

    /// Off unless set (it costs two clock reads a dispatch): hears of every dispatch (a handler's
    /// readiness call, the due timers, a wake-up) that kept the loop from everything else for
    /// longer than `thresholdNs`, with what it was and how long it took, in ns.
    public var slowDispatches: (thresholdNs: UInt64, report: (_ what: String, _ ns: UInt64) -> Void)?

    private struct Slot {
        var id: UInt32 = 0
        var handler: Int32 = -1
        var token: Int = 0
    }

    public init() throws(IOError) {
        ignoreBrokenPipes()
        epoll = try Epoll()
        timer = try TimerFD()
        wakeup = try ReactorRemote()
        events = .allocate(capacity: 256)
        try epoll.add(timer.fd, id: 0, events: .readable)
        try epoll.add(wakeup.fd, id: 0, events: .readable)
    }

    deinit { events.deallocate() }

    // MARK: Handlers and registrations

    /// Adds a readiness handler; the result identifies it in `register`.
    public func addHandler(_ handler: ReactorHandler) -> Int {
        handlers.append(handler)
        return handlers.count - 1
    }

    /// Adds a timer handler; the result identifies it in `schedule`.
    public func addTimerHandler(_ handler: ReactorTimerHandler) -> Int {
        timerHandlers.append(handler)
        return timerHandlers.count - 1
    }

    /// Starts watching `fd` for `events` on behalf of handler `handler`.
    public func register(fd: Int32, events: IOEvents, handler: Int, token: Int) throws(IOError) {
        let id = nextRegistrationID
        nextRegistrationID = nextRegistrationID == UInt32.max ? 1 : nextRegistrationID + 1
        let index = Int(fd)
        if index >= slots.count { slots.append(contentsOf: repeatElement(Slot(), count: index - slots.count + 1 + 64)) }
        slots[index] = Slot(id: id, handler: Int32(handler), token: token)
        do {
            try epoll.add(fd, id: id, events: events)
        } catch {
            slots[index] = Slot()
            throw error
        }
    }

    /// Changes the events watched on a registered `fd`.
    public func modify(fd: Int32, events: IOEvents) throws(IOError) {
        try epoll.modify(fd, id: slots[Int(fd)].id, events: events)
    }

    /// Stops watching `fd` without closing it (to hand it to another handler).
    public func deregister(fd: Int32) throws(IOError) {
        if Int(fd) < slots.count { slots[Int(fd)] = Slot() }
        try epoll.remove(fd)
    }

    /// Forgets `fd` and closes it (closing removes it from epoll; no extra syscall). Events
    /// already fetched for it are dropped by the registration-id check.
    public func close(fd: Int32) {
        if Int(fd) < slots.count { slots[Int(fd)] = Slot() }
        _ = CLinux.close(fd)
    }

    // MARK: Timers

    /// Calls timer handler `handler` with `token` at monotonic time `deadline` (ns) or soon after.
    /// There is no cancel: handlers ignore tokens they no longer expect.
    public func schedule(at deadline: UInt64, handler: Int, token: Int) {
        timers.push(.init(deadline: deadline, handler: Int32(handler), token: token))
    }

    // MARK: Loop

    /// Runs until `stop()` (from a handler) or `requestStop()` (from any thread).
    public func run() throws(IOError) {
        running = true
        while running && !wakeup.stopRequested.load(ordering: .relaxed) {
            try timer.arm(at: timers.earliest ?? 0)
            let n = try epoll.wait(into: events, timeoutMs: -1)
            if slowDispatches == nil {
                for i in 0..<n { dispatch(events[i]) }
            } else {
                for i in 0..<n { timedDispatch(events[i]) }
            }
            if n == events.count {
                // A full batch: more may be waiting; grow so one epoll_wait sees them all.
                events.deallocate()
                events = .allocate(capacity: n * 2)
            }
        }
        running = false
    }

    @inline(__always)
    private func dispatch(_ ev: epoll_event) {
        let (fd, id) = Epoll.unpack(ev.data.u64)
        if id == 0 {
            if fd == timer.fd { timer.acknowledge(); fireTimers() }
            else if fd == wakeup.fd { wakeup.acknowledge(); onWakeup?() }
            return
        }
        let index = Int(fd)
        guard index < slots.count, slots[index].id == id else { return }  // stale: fd reused
        let slot = slots[index]
        handlers[Int(slot.handler)].reactor(self, ready: IOEvents(rawValue: ev.events), fd: fd, token: slot.token)
    }

    private func timedDispatch(_ ev: epoll_event) {
        let started = monotonicNanoseconds()
        dispatch(ev)
        let took = monotonicNanoseconds() &- started
        guard let watch = slowDispatches, took > watch.thresholdNs else { return }
        let (fd, id) = Epoll.unpack(ev.data.u64)
        let what: String
        if id == 0 { what = fd == timer.fd ? "timers" : "wake-up" }
        else if Int(fd) < slots.count, slots[Int(fd)].handler >= 0 { what = "\(type(of: handlers[Int(slots[Int(fd)].handler)])) fd \(fd)" }
        else { what = "fd \(fd) (closed meanwhile)" }
        watch.report(what, took)
    }

    private func fireTimers() {
        let now = monotonicNanoseconds()
        while let entry = timers.popDue(now: now) {
            timerHandlers[Int(entry.handler)].reactor(self, timerFired: entry.token, now: now)
        }
    }

    /// Stops `run()` after the current batch. Reactor thread only.
    public func stop() { running = false }

    /// Handle for other threads: `wake()` and `requestStop()`.
    public var remote: ReactorRemote { wakeup }
}

/// A write to a socket (or an OpenSSL write through one) whose peer has gone would raise SIGPIPE,
/// whose default action ends the process without a word. Every reactor's owner writes to peers it
/// does not control, so the signal is ignored process-wide once: the write then fails with EPIPE,
/// which the caller handles as the closed connection it is.
public func ignoreBrokenPipes() {
    _ = brokenPipesIgnored
}

private let brokenPipesIgnored: Bool = {
    signal(SIGPIPE, SIG_IGN)
    return true
}()
