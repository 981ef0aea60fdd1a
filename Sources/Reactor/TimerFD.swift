import CLinux
import Synchronization

/// A timerfd on CLOCK_MONOTONIC, armed with absolute deadlines: the reactor keeps it set to its
/// earliest deadline, so timers have nanosecond resolution (epoll_wait's timeout is milliseconds).
struct TimerFD: ~Copyable {
    let fd: Int32
    private(set) var armedAt: UInt64 = 0

    init() throws(IOError) {
        fd = try syscallChecked("timerfd_create") {
            timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
        }
    }

    deinit { close(fd) }

    /// Arms for the absolute monotonic time `deadline` (ns); 0 disarms.
    mutating func arm(at deadline: UInt64) throws(IOError) {
        guard deadline != armedAt else { return }
        var spec = itimerspec()
        // An absolute deadline of 0 would disarm; a deadline in the past fires at once.
        let at = deadline == 0 ? 0 : Swift.max(deadline, 1)
        spec.it_value.tv_sec = Int(at / 1_000_000_000)
        spec.it_value.tv_nsec = Int(at % 1_000_000_000)
        _ = try syscallChecked("timerfd_settime") { timerfd_settime(fd, Int32(TFD_TIMER_ABSTIME), &spec, nil) }
        armedAt = deadline
    }

    /// Consumes the expiration count so level-triggered epoll stops reporting it.
    mutating func acknowledge() {
        var expirations: UInt64 = 0
        _ = read(fd, &expirations, 8)
        armedAt = 0
    }
}

/// The part of a reactor other threads may touch: an eventfd to wake it and a stop flag.
public final class ReactorRemote: Sendable {
    let fd: Int32
    let stopRequested = Atomic<Bool>(false)

    init() throws(IOError) {
        fd = try syscallChecked("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    deinit { close(fd) }

    /// Makes the reactor's `run()` return soon. Safe from any thread.
    public func requestStop() {
        stopRequested.store(true, ordering: .relaxed)
        wake()
    }

    /// Wakes the reactor (its `onWakeup` runs on its thread). Safe from any thread.
    public func wake() {
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }

    func acknowledge() {
        var value: UInt64 = 0
        _ = read(fd, &value, 8)
    }
}
