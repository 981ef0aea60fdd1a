import HTTP1
import Reactor
import StampedeModel
import TLS

/// One client connection's state. Workers keep these in one contiguous array and address them by
/// index (the reactor token), so nothing is allocated per request and the hot fields sit together.
struct Connection {
    enum State: UInt8 {
        /// No socket; about to connect.
        case closed
        /// Waiting for a connect slot (connects in flight are bounded).
        case queued
        case connecting
        case handshaking
        /// Writing the request (the first byte went out or is about to).
        case writing
        /// Request written; reading the response.
        case reading
        /// Tsunami: waiting for the next intended send time (a timer is set).
        case waiting
        /// Waiting to reconnect after a failed connect (a timer is set).
        case backoff
        /// Avalanche stages: not wanted now (no socket); the ramp may open it again.
        case dormant
        /// Connected in the connect phase: waiting for the measured schedule to start.
        case ready
        /// Done: no more requests from this connection.
        case retired
    }

    var fd: Int32 = -1
    var state: State = .closed
    var interest: IOEvents = []
    var tls: TLSStream?
    /// A TLS session to resume on the next connect; refreshed after each handshake's first response.
    var session: TLSSavedSession?
    var saveSession = false
    var parser = HTTPResponseParser()
    /// The request being sent (an index into the workload's programs) and its bytes. `chosen`:
    /// the next request is picked (its origin's socket is the active one) but not sent yet.
    var current = 0
    var chosen = false
    /// The origin of the active socket (`fd`), and the connection's sockets to its other origins,
    /// kept alive while idle (one entry per origin; empty when the test has one origin).
    var origin = 0
    var parked: [ParkedSocket] = []
    var outgoing = UnsafeRawBufferPointer(start: nil, count: 0)
    /// Where a templated request is rendered; owned by the connection, freed by its worker.
    var render = RenderBuffer()
    /// `order: sequence`: the next request of this connection's journey.
    var journey = 0
    /// Bytes of the request written so far.
    var written = 0
    /// When the request was meant to go out (tsunami schedule) and when it actually did (ns).
    var intendedAt: UInt64 = 0
    var sentAt: UInt64 = 0
    /// Connect, handshake or response deadline (ns); 0 when none is running.
    var deadline: UInt64 = 0
    /// Tsunami: the next intended send time (ns), and (stages) how many sends were scheduled.
    var nextSend: UInt64 = 0
    var scheduled = 0
    /// Bumped whenever a timer for this connection is set, so stale timers are ignored.
    var timerGeneration = 0
    var connectFailures = 0
    /// When the connect in flight began (ns; 0: none in flight). It holds one of the worker's
    /// connect slots until it is established or fails.
    var connectStartedAt: UInt64 = 0
    /// The connect phase still waits for this connection's first connect to end.
    var awaitedByPhase = false
    /// The socket has carried a whole response and stayed open: a close before the next response's
    /// first byte may be the server timing the idle connection out as the request went out.
    var reused = false
    /// A byte of the current response has arrived.
    var responseStarted = false
    /// The current request is being resent on a fresh connection after a stale keep-alive close.
    var retrying = false
}

/// A connection's idle socket to one origin while it talks to another, with what belongs to that
/// origin: the TLS stream and the session to resume.
struct ParkedSocket {
    var fd: Int32 = -1
    var tls: TLSStream?
    var reused = false
    var interest: IOEvents = []
    var session: TLSSavedSession?
    var saveSession = false
}
