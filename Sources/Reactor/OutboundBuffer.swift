/// Bytes waiting to go out on a non-blocking socket that is watched for readability: `flush`
/// writes what the kernel takes, and watches for writability only while something is left (and
/// stops once it is written), so an idle connection costs no wake-ups.
public struct OutboundBuffer {
    private var bytes: [UInt8] = []
    private var offset = 0
    private var watchingWritable = false
    /// Set while the owner wants no more input (backpressure): the socket is then watched for
    /// writability only, and a level-triggered epoll does not keep waking it for unread bytes.
    public private(set) var readingPaused = false

    public init() {}

    /// Bytes not yet written.
    public var pending: Int { bytes.count - offset }

    /// Everything not yet written, e.g. to hand the connection to another handler.
    public var unsent: [UInt8] { Array(bytes[offset...]) }

    public mutating func append(_ more: [UInt8]) {
        if offset > 0 && offset == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            offset = 0
        }
        bytes += more
    }

    public enum FlushResult { case done, pending }

    /// Writes as much as the socket takes.
    /// - Throws: `IOError` from the write or from changing the epoll interest: close the socket.
    public mutating func flush(fd: Int32, reactor: Reactor) throws(IOError) -> FlushResult {
        while pending > 0 {
            let start = offset
            let attempt: Result<IOResult<Int>, IOError> = bytes.withUnsafeBytes { all in
                do throws(IOError) { return .success(try TCPSocket.write(fd, UnsafeRawBufferPointer(rebasing: all[start...]))) } catch {
                    return .failure(error)
                }
            }
            switch try attempt.get() {
            case .processed(let n): offset += n
            case .wouldBlock:
                if !watchingWritable {
                    watchingWritable = true
                    try reactor.modify(fd: fd, events: interest)
                }
                return .pending
            }
        }
        bytes.removeAll(keepingCapacity: true)
        offset = 0
        if watchingWritable {
            watchingWritable = false
            try reactor.modify(fd: fd, events: interest)
        }
        return .done
    }

    /// Stops or resumes watching the socket for input.
    /// - Throws: `IOError` from changing the epoll interest: close the socket.
    public mutating func pauseReading(_ paused: Bool, fd: Int32, reactor: Reactor) throws(IOError) {
        guard paused != readingPaused else { return }
        readingPaused = paused
        try reactor.modify(fd: fd, events: interest)
    }

    private var interest: IOEvents {
        var events: IOEvents = readingPaused ? [] : .readable
        if watchingWritable { events.insert(.writable) }
        return events
    }
}
