import CLinux
import Glibc

/// A failed system call: which call, the errno it returned, and (where known) what it was
/// operating on. Raised by the syscall door; never a bare -1.
public struct IOError: Error, CustomStringConvertible, Equatable {
    public let errno: Int32
    public let operation: StaticString
    public var context: String

    public init(errno: Int32, operation: StaticString, context: String = "") {
        self.errno = errno
        self.operation = operation
        self.context = context
    }

    /// The same error with `context` (e.g. the peer address) attached.
    public func with(context: String) -> IOError {
        var copy = self
        copy.context = context
        return copy
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
        return context.isEmpty ? "\(operation): \(reason) (errno \(errno))"
                               : "\(operation) \(context): \(reason) (errno \(errno))"
    }

    public static func == (a: IOError, b: IOError) -> Bool {
        a.errno == b.errno && a.operation.description == b.operation.description && a.context == b.context
    }
}

/// Result of a non-blocking call: done (with its value), or the kernel said "would block".
public enum IOResult<T> {
    case processed(T)
    case wouldBlock
}

/// The one door every system call goes through: retries EINTR, maps EAGAIN/EWOULDBLOCK (and
/// EINPROGRESS for connect) to `.wouldBlock`, traps on EBADF and EFAULT (they are our bugs: a
/// closed or wild descriptor), and throws `IOError` for everything else. `@inline(never)` so nothing
/// runs between the call and the errno read.
@inline(never)
public func syscall<T: FixedWidthInteger>(_ operation: StaticString, _ body: () -> T) throws(IOError) -> IOResult<T> {
    while true {
        let result = body()
        if result >= 0 { return .processed(result) }
        let err = stampede_errno()
        switch err {
        case EINTR: continue
        case EAGAIN, EWOULDBLOCK, EINPROGRESS: return .wouldBlock
        case EBADF, EFAULT: fatalError("\(operation) failed with \(String(cString: strerror(err))): a bug, not an I/O condition")
        default: throw IOError(errno: err, operation: operation)
        }
    }
}

/// `syscall` for calls that never block (socket, epoll_ctl, ...): `.wouldBlock` is an error too.
@inline(never)
public func syscallChecked<T: FixedWidthInteger>(_ operation: StaticString, _ body: () -> T) throws(IOError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let err = stampede_errno()
        if err == EINTR { continue }
        if err == EBADF || err == EFAULT {
            fatalError("\(operation) failed with \(String(cString: strerror(err))): a bug, not an I/O condition")
        }
        throw IOError(errno: err, operation: operation)
    }
}
