import Foundation
import Reactor
import Testing
import TestSupport

/// A target name with several addresses (localhost as ::1 and 127.0.0.1 on most hosts, where a
/// server often listens on one only) connects to the first that accepts, as wrk and curl do.
@Suite struct AddressChoiceTests {
    @Test func theFirstAddressThatAcceptsIsChosen() throws {
        let port = freePort()
        let target = try ServerProcess(stampedeBinary, ["target", "--listen", "127.0.0.1:\(port)"], port: port)
        defer { target.stop() }
        // Nothing listens on 127.0.0.2 at that port: refused, so the next one is taken.
        let closed = try SocketAddress.resolve(host: "127.0.0.2", port: port)[0]
        let open = try SocketAddress.resolve(host: "127.0.0.1", port: port)[0]
        #expect(TCPSocket.firstAccepting([closed, open], timeoutMs: 1_000)?.description == "127.0.0.1:\(port)")
        #expect(TCPSocket.firstAccepting([open, closed], timeoutMs: 1_000)?.description == "127.0.0.1:\(port)")
        #expect(TCPSocket.firstAccepting([closed], timeoutMs: 1_000) == nil)
    }
}
