import Foundation
import LoadGenerator
import Reactor
import StampedeModel
import Testing
import TestSupport

/// `--source-addrs`: connections bound to local addresses round-robin, seen by nginx as
/// `$remote_addr` (loopback answers on all of 127.0.0.0/8).
@Suite(.serialized) struct SourceAddressTests {
    @Test func connectionsComeFromEveryAddressInEqualShares() throws {
        let nginx = try Nginx(logFormat: "$remote_addr")
        defer { nginx.stop() }
        // Tsunami at a fixed rate: every connection sends the same count, so shares are exact.
        let run = try runCommand(stampedeBinary, ["bench", "http://127.0.0.1:\(nginx.port)/", "--mode", "tsunami", "-R", "2000", "-d", "2",
                                                  "-c", "8", "--source-addrs", "127.0.0.2-127.0.0.5", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try jsonObject(run.stdout)
        let total = report["requests"] as? Int ?? 0
        let byAddress = logCounts(try nginx.accessLog(expecting: total), field: 1)
        #expect(Set(byAddress.keys) == ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"], "\(byAddress)")
        for (address, n) in byAddress {
            #expect(abs(Double(n) / Double(total) - 0.25) <= 0.01, "\(address): \(n) of \(total)")
        }
    }

    @Test func anAddressThisHostDoesNotHaveFailsBeforeTheTest() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let url = "http://127.0.0.1:\(nginx.port)/"
        let cases: [(arguments: [String], expected: String)] = [
            (["--source-addrs", "10.255.255.1"], "--source-addrs: cannot bind 10.255.255.1"),
            (["--source-addrs", "127.0.0.9-127.0.0.2"], "--source-addrs: the range 127.0.0.9-127.0.0.2 must go up"),
            (["--source-addrs", "127.0.0.2,localhost"], "--source-addrs: 'localhost' is not an IP address"),
        ]
        for c in cases {
            let run = try runCommand(stampedeBinary, ["bench", url, "-d", "1"] + c.arguments)
            #expect(run.status == 2 && run.stderr.contains(c.expected), "\(c.arguments): \(run.status) \(run.stderr)")
        }
        #expect(try nginx.accessLogLines() == 0, "nothing was sent")
    }

    /// Past half of this host's ephemeral port range from one address, Linux's connect() searches
    /// the range on every connect (15,000 connections to nginx took 4.7-4.8 s to open from one
    /// address, 0.7-0.8 s from four): the run says so before it starts, and names the flag.
    @Test func aCrowdedPortRangeIsNamedBeforeTheRun() throws {
        let ports = try #require(EphemeralPorts.current(), "this host's ip_local_port_range")
        var spec = LoadSpec(target: try LoadSpec.target("http://127.0.0.1:9/"))
        spec.connections = ports.count / 2 + 100
        guard spec.connections + 64 <= raiseOpenFileLimit() else {
            // A range wider than twice this process's descriptors (e.g. 1024-65535 with 20,000):
            // no run here can crowd it; the note's arithmetic on the real range still holds.
            #expect(ports.crowdingNote(socketsPerAddress: spec.connections) != nil)
            #expect(ports.crowdingNote(socketsPerAddress: ports.count / 2) == nil)
            return
        }
        let crowded = try LoadRun(config: spec)
        #expect(crowded.notes.count == 1 && crowded.notes[0].contains("--source-addrs"), "\(crowded.notes)")
        #expect(crowded.notes.first?.contains("\(ports.low)-\(ports.high)") == true)
        spec.sourceAddresses = ["127.0.0.2", "127.0.0.3"]
        #expect(try LoadRun(config: spec).notes.isEmpty, "two addresses hold half each")
        spec.sourceAddresses = []
        spec.connections = ports.count / 2 - 100
        #expect(try LoadRun(config: spec).notes.isEmpty, "below half")
    }
}
