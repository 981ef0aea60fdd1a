import CLinux
import CShims
import Glibc

/// A resolved socket address (IPv4 or IPv6), stored inline.
public struct SocketAddress: Sendable, CustomStringConvertible {
    var storage = sockaddr_storage()
    public private(set) var length: socklen_t = 0

    public var family: Int32 { Int32(storage.ss_family) }

    /// Resolves `host:port` (numeric or by name; blocking, so call it before the load starts).
    /// - Throws: `AddressError` naming the host when it does not resolve.
    public static func resolve(host: String, port: Int) throws(AddressError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let rc = getaddrinfo(bare, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw AddressError(host: host, port: port, reason: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(first) }
        var result: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            var address = SocketAddress()
            withUnsafeMutableBytes(of: &address.storage) { dst in
                dst.copyMemory(from: UnsafeRawBufferPointer(start: ai.pointee.ai_addr, count: Int(ai.pointee.ai_addrlen)))
            }
            address.length = ai.pointee.ai_addrlen
            result.append(address)
            cursor = ai.pointee.ai_next
        }
        return result
    }

    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self), length) }
    }

    public var description: String {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        var port = [CChar](repeating: 0, count: Int(NI_MAXSERV))
        let rc = withSockaddr { getnameinfo($0, $1, &host, socklen_t(host.count), &port, socklen_t(port.count),
                                            NI_NUMERICHOST | NI_NUMERICSERV) }
        guard rc == 0 else { return "<unknown address>" }
        let h = host.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let p = port.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return family == AF_INET6 ? "[\(h)]:\(p)" : "\(h):\(p)"
    }
}

public struct AddressError: Error, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let reason: String
    public var description: String { "cannot resolve \(host):\(port): \(reason)" }
}

/// Non-blocking TCP sockets. Every call goes through the syscall door.
public enum TCPSocket {
    /// Starts a non-blocking connect. `.wouldBlock` means in progress: wait for writable, then
    /// check `pendingError`.
    /// - Parameter source: a local address to bind first (its port 0: the kernel picks one at
    ///   connect time, per destination, with IP_BIND_ADDRESS_NO_PORT).
    public static func connect(to address: SocketAddress, from source: SocketAddress? = nil) throws(IOError) -> (fd: Int32, inProgress: Bool) {
        let fd = try syscallChecked("socket") {
            socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        do throws(IOError) {
            if let source {
                setsockopt(fd, Int32(IPPROTO_IP), 24 /* IP_BIND_ADDRESS_NO_PORT */, &one, socklen_t(MemoryLayout<Int32>.size))
                _ = try syscallChecked("bind") { source.withSockaddr { CLinux.bind(fd, $0, $1) } }
            }
            let result = try syscall("connect") { address.withSockaddr { CLinux.connect(fd, $0, $1) } }
            switch result {
            case .processed: return (fd, false)
            case .wouldBlock: return (fd, true)
            }
        } catch {
            CLinux.close(fd)
            throw error.with(context: address.description)
        }
    }

    /// Of the addresses a name resolved to (`localhost`: 127.0.0.1 and ::1), the first that accepts
    /// a TCP connection within `timeoutMs`, as wrk and curl choose; nil when none does. Blocking:
    /// for set-up only.
    public static func firstAccepting(_ candidates: [SocketAddress], timeoutMs: Int32) -> SocketAddress? {
        for address in candidates {
            guard let (fd, inProgress) = try? connect(to: address) else { continue }
            defer { CLinux.close(fd) }
            if !inProgress { return address }
            var waiting = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&waiting, 1, timeoutMs) == 1 && pendingError(fd) == 0 { return address }
        }
        return nil
    }

    /// SO_ERROR of a socket whose connect completed (0 on success).
    public static func pendingError(_ fd: Int32) -> Int32 {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
        return err
    }

    /// A listening socket (SO_REUSEADDR) on `address`.
    public static func listen(on address: SocketAddress, backlog: Int32 = 4096) throws(IOError) -> Int32 {
        let fd = try syscallChecked("socket") {
            socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        do throws(IOError) {
            _ = try syscallChecked("bind") { address.withSockaddr { bind(fd, $0, $1) } }
            _ = try syscallChecked("listen") { CLinux.listen(fd, backlog) }
        } catch {
            CLinux.close(fd)
            throw error.with(context: address.description)
        }
        return fd
    }

    /// Accepts one pending connection (non-blocking, TCP_NODELAY), or `.wouldBlock`.
    public static func accept(_ listener: Int32) throws(IOError) -> IOResult<Int32> {
        let result = try syscall("accept4") {
            stampede_accept_nonblocking(listener)
        }
        if case .processed(let fd) = result {
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        return result
    }

    /// The port a socket is bound to (for listeners on port 0).
    public static func localPort(_ fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        let port: UInt16 = withUnsafeBytes(of: storage) { raw in
            storage.ss_family == sa_family_t(AF_INET6)
                ? raw.load(fromByteOffset: 2, as: UInt16.self) : raw.load(fromByteOffset: 2, as: UInt16.self)
        }
        return Int(UInt16(bigEndian: port))
    }

    /// read(2): bytes read (0 = peer closed) or `.wouldBlock`.
    @inline(__always)
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> IOResult<Int> {
        try syscall("read") { stampede_read(fd, buffer.baseAddress, buffer.count) }
    }

    /// shutdown(2) of the sending side: the peer reads end-of-file after what was written.
    public static func shutdownWrite(_ fd: Int32) throws(IOError) {
        _ = try syscallChecked("shutdown") { CLinux.shutdown(fd, Int32(SHUT_WR)) }
    }

    /// write(2): bytes written or `.wouldBlock`.
    @inline(__always)
    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(IOError) -> IOResult<Int> {
        try syscall("write") { stampede_write(fd, bytes.baseAddress, bytes.count) }
    }
}

/// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft limit. A load tester
/// with 10,000 connections needs more than the usual 1024.
public func raiseOpenFileLimit() -> Int {
    var limit = rlimit()
    guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }
    return Int(limit.rlim_cur)
}

/// Gives memory glibc's allocator holds free back to the system (after a large piece of work ends:
/// a test's merged histograms; glibc otherwise keeps it in its arenas for reuse).
public func returnFreedMemory() {
    _ = stampede_malloc_trim()
}

/// Makes every thread allocate from one glibc arena (called before the threads start). glibc gives
/// each thread that allocates concurrently an arena of its own, up to 8 per core, and memory freed
/// in one is not reused by another: the orchestrator's threads (reactor, metrics intake, page
/// writer, answers, live events, librdkafka's) stood at 52-63 MiB after 1,000-name tests, against
/// 39-42 MiB in one arena, with /ping as prompt. Not for load workers: their threads allocate
/// nothing per request, and an arena each keeps them from ever sharing a lock.
public func useOneMallocArena() {
    _ = stampede_limit_malloc_arenas(1)
}

/// Pins the calling thread to `cpu`.
public func pinCurrentThread(to cpu: Int) throws(IOError) {
    let rc = stampede_pin_current_thread(Int32(cpu))
    if rc != 0 { throw IOError(errno: rc, operation: "pthread_setaffinity_np", context: "cpu \(cpu)") }
}
