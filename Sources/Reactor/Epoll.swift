import CLinux

/// Interest and readiness bits, as epoll defines them.
public struct IOEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let readable = IOEvents(rawValue: EPOLLIN.rawValue)
    public static let writable = IOEvents(rawValue: EPOLLOUT.rawValue)
    /// Peer closed its writing half (reported with readable).
    public static let readHangup = IOEvents(rawValue: EPOLLRDHUP.rawValue)
    public static let hangup = IOEvents(rawValue: EPOLLHUP.rawValue)
    public static let error = IOEvents(rawValue: EPOLLERR.rawValue)
}

/// A thin owner of one epoll descriptor. Level-triggered (see `Reactor` for why).
///
/// Each registration's `data.u64` packs a 32-bit registration id with the 32-bit fd: the reactor
/// drops events whose id no longer matches the fd's current registration, because fd numbers are
/// reused as soon as they are closed and a load tester reconnects constantly.
struct Epoll: ~Copyable {
    let fd: Int32

    init() throws(IOError) {
        fd = try syscallChecked("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
    }

    deinit { close(fd) }

    static func pack(fd: Int32, id: UInt32) -> UInt64 { UInt64(id) << 32 | UInt64(UInt32(bitPattern: fd)) }
    static func unpack(_ data: UInt64) -> (fd: Int32, id: UInt32) {
        (Int32(bitPattern: UInt32(truncatingIfNeeded: data)), UInt32(truncatingIfNeeded: data >> 32))
    }

    func add(_ target: Int32, id: UInt32, events: IOEvents) throws(IOError) {
        try control(EPOLL_CTL_ADD, target, id: id, events: events)
    }

    func modify(_ target: Int32, id: UInt32, events: IOEvents) throws(IOError) {
        try control(EPOLL_CTL_MOD, target, id: id, events: events)
    }

    func remove(_ target: Int32) throws(IOError) {
        var ev = epoll_event()
        _ = try syscallChecked("epoll_ctl(DEL)") { epoll_ctl(fd, EPOLL_CTL_DEL, target, &ev) }
    }

    private func control(_ op: Int32, _ target: Int32, id: UInt32, events: IOEvents) throws(IOError) {
        var ev = epoll_event()
        ev.events = events.rawValue
        ev.data.u64 = Epoll.pack(fd: target, id: id)
        _ = try syscallChecked("epoll_ctl") { epoll_ctl(fd, op, target, &ev) }
    }

    /// Waits for events; `timeoutMs` -1 blocks. Returns how many entries of `buffer` are filled.
    func wait(into buffer: UnsafeMutableBufferPointer<epoll_event>, timeoutMs: Int32) throws(IOError) -> Int {
        switch try syscall("epoll_wait", { epoll_wait(fd, buffer.baseAddress, Int32(buffer.count), timeoutMs) }) {
        case .processed(let n): return Int(n)
        case .wouldBlock: return 0
        }
    }
}
