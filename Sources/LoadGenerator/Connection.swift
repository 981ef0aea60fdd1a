import HTTP1
import Sessions
import Reactor
import StampedeModel
import TLS

/// One client connection slot. Workers keep these in one contiguous array and address them by
/// index (the reactor token), so nothing is allocated per request and the hot fields sit together.
/// Its lifecycle is `machine`; the rest is what the worker needs to carry the machine's actions
/// out: the sockets, the request's bytes, the parser and the pacing schedule.
struct Connection {
    var machine: ConnectionStateMachine
    /// The socket to the active origin (`origin`), and the connection's idle sockets to its other
    /// origins, kept alive while it talks to this one (one entry per origin; empty when the test
    /// has one origin).
    var transport = Transport()
    var origin = 0
    var parked: [Transport] = []
    var parser = HTTPResponseParser()
    /// The cookies this slot's responses set (empty with `cookies: off`).
    var jar = CookieJar()
    /// The `Cookie: ...\r\n` line the jar gave at `cookieLineVersion` for `cookieLineOrigin`:
    /// reused while the jar is unchanged (and its cookies' paths are all "/").
    var cookieLine = ByteStore()
    var cookieLineVersion = -1
    var cookieLineOrigin = -1
    /// Keeps the response headers that cookies and captures read, and a captured body's first
    /// bytes (nil when nothing reads them). Owned by the worker (`Worker.recorders`): not
    /// retained here, so the per-request path costs no reference counting.
    unowned(unsafe) var recorder: HeaderRecorder?
    /// The same recorder, for the parser's reset on every request: passing the unowned(unsafe)
    /// reference as an argument retained and released it each time.
    var recorderRef: Unmanaged<HeaderRecorder>?
    /// The session's captured values, by slot (`{{var.NAME}}`), and when its think time ends
    /// (monotonic ns; 0: not thinking).
    var variables: [ByteStore] = []
    var thinkUntil: UInt64 = 0
    /// The request in flight captures values or thinks after its response (set as it is
    /// prepared, so a plain response costs no look-up).
    var sessionStep = false
    /// The request in flight (an index into the workload's programs), and the one picked to go
    /// next (its origin's socket is the active one) but not sent yet.
    var current = 0
    var next: Int?
    var outgoing = UnsafeRawBufferPointer(start: nil, count: 0)
    /// Where a templated request is rendered; owned by the connection, freed by its worker.
    var render = RenderBuffer()
    /// A templated `expect_body`, rendered for the request in flight.
    var expectScanner: SubstringScanner?
    /// `order: sequence`: the next request of this connection's journey.
    var journey = 0
    /// A session is under way on this slot: when it arrived (ns; intended, in the open model),
    /// the think time it has had, and its test-wide number (`{{session}}`, its data row).
    var inSession = false
    var sessionArrival: UInt64 = 0
    var sessionThinkNs: UInt64 = 0
    var sessionNumber = 0
    /// `follow_redirects`: redirects followed for the current request; `hopPending`: the
    /// next send is the next hop (rendered into `render` already).
    var hops = 0
    var hopPending = false
    /// The hop's method (the request in flight's while `hops` > 0) and where its target lies.
    var hopMethod = HTTPMethod.get
    var hopTarget = 0..<0
    /// Where the request target lies in `outgoing` (known from how the bytes were made: never
    /// searched for).
    var target = 0..<0
    /// Bytes of the request written so far.
    var written = 0
    /// When the request was meant to go out (tsunami schedule) and when it actually did (ns).
    var intendedAt: UInt64 = 0
    var sentAt: UInt64 = 0
    /// When the request's last byte was written, and when its response's first byte was read
    /// (0: the response is read in one go, or not yet begun): its waiting and receiving times.
    var writtenAt: UInt64 = 0
    var firstByteAt: UInt64 = 0
    /// Tsunami: the next intended send time (ns), and (stages) how many sends were scheduled.
    var nextSend: UInt64 = 0
    var scheduled = 0
    /// Bumped whenever a timer for this connection is armed, so stale timers are ignored.
    var timerGeneration = 0

    init(timeoutNs: UInt64) {
        machine = ConnectionStateMachine(timeoutNs: timeoutNs)
    }
}
