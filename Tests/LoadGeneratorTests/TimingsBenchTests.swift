import Foundation
import Testing
import TestSupport

/// Where a request's time goes, against targets whose phases are known: nginx sending 1 MiB at
/// 2 MiB/s (receiving about 500 ms), a server that thinks 200 ms before its first byte (waiting
/// about 200 ms), and TLS with `Connection: close` (a connect and a handshake per request, the
/// resumed ones as nginx's `$ssl_session_reused` says).
@Suite(.serialized) struct TimingsBenchTests {
    func bench(_ arguments: [String]) throws -> [String: Any] {
        let run = try runCommand(stampedeBinary, ["bench"] + arguments + ["--json"], timeout: 90)
        #expect(run.status == 0, "\(run.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stderr)")
    }

    static func ms(_ report: [String: Any], _ field: String, _ p: String = "p50") -> Double {
        Double((report[field] as? [String: Any])?[p] as? Int ?? -1_000_000) / 1000
    }

    @Test func aBodySentAtTwoMegabytesASecondIsReceivingTime() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("timings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(repeating: 0x61, count: 1 << 20).write(to: dir.appendingPathComponent("big.bin"))
        let nginx = try Nginx(locations: "location = /big.bin { alias \(dir.path)/big.bin; limit_rate 2m; }")
        defer { nginx.stop() }
        let report = try bench(["http://127.0.0.1:\(nginx.port)/big.bin", "--connections", "2", "--requests", "8"])
        #expect(report["responses"] as? Int == 8)
        let receiving = Self.ms(report, "receiving_us"), waiting = Self.ms(report, "waiting_us", "p99")
        #expect(receiving >= 450 && receiving <= 550, "receiving p50 \(receiving) ms (1 MiB at 2 MiB/s: 500 ms)")
        #expect(waiting >= 0 && waiting < 50, "waiting p99 \(waiting) ms")
        // The request's latency is its waiting and receiving (and the write before them).
        let latency = Self.ms(report, "latency_us")
        #expect(abs(latency - (Self.ms(report, "waiting_us") + receiving)) < 5, "latency p50 \(latency) ms")
        // Two keep-alive connections: two connects, no TLS.
        #expect(report["connects"] as? Int == 2 && report["tls_us"] == nil)
        #expect(((report["connect_us"] as? [String: Any])?["max"] as? Int ?? -1) >= 0)
    }

    @Test func aServerThatThinksBeforeItsFirstByteIsWaitingTime() throws {
        let port = freePort()
        let server = try ServerProcess(repositoryRoot.appendingPathComponent(".venv/bin/python"),
                                       [repositoryRoot.appendingPathComponent("Tests/Interop/think_then_answer.py").path, String(port), "200"],
                                       port: port)
        defer { server.stop() }
        let report = try bench(["http://127.0.0.1:\(port)/", "--connections", "4", "--requests", "20"])
        #expect(report["responses"] as? Int == 20)
        let waiting = Self.ms(report, "waiting_us"), waitingP99 = Self.ms(report, "waiting_us", "p99")
        #expect(waiting >= 200 && waiting <= 220 && waitingP99 <= 220, "waiting p50 \(waiting) ms, p99 \(waitingP99) ms (the server thinks 200 ms)")
        let receiving = Self.ms(report, "receiving_us", "p99")
        #expect(receiving >= 0 && receiving < 5, "receiving p99 \(receiving) ms (a small body in the same write)")
        #expect(Self.ms(report, "latency_us") >= waiting)
    }

    /// A redirect's first response and its hop are timed under their own names (`NAME` and
    /// `NAME redirect`), like their latencies, and a paced run's (tsunami) are recorded rather
    /// than counted: every name that answered has its waiting and receiving, and nothing went
    /// wrong folding them (no first error).
    @Test func redirectsAndPacedRequestsAreTimedUnderTheirOwnNames() throws {
        let nginx = try Nginx(locations: "location = /old { return 302 /new; } location = /new { return 200 'moved here'; }")
        defer { nginx.stop() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("timings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let list = dir.appendingPathComponent("list.json")
        try Data(#"[{"name": "moved", "url": "http://127.0.0.1:\#(nginx.port)/old"}, {"name": "home", "url": "http://127.0.0.1:\#(nginx.port)/"}]"#.utf8).write(to: list)
        for mode in [["--connections", "4", "--duration", "2s"], ["--mode", "tsunami", "--rate", "200", "--connections", "4", "--duration", "3s"]] {
            let report = try bench(["--targets", list.path, "--follow-redirects", "1"] + mode)
            #expect(report["first_error"] == nil, "\(mode): \(report["first_error"] ?? "")")
            let byName = try #require(report["by_name"] as? [String: [String: Any]])
            #expect(Set(byName.keys) == ["moved", "moved redirect", "home"], "\(byName.keys)")
            for (name, n) in byName {
                #expect((n["responses"] as? Int ?? 0) > 0 && n["waiting_us"] != nil && n["receiving_us"] != nil, "\(mode) \(name): \(n)")
                // Small answers, read in one go: waiting is most of the latency.
                let waiting = Self.ms(n, "waiting_us", "max"), latency = Self.ms(n, "latency_us", "max")
                #expect(waiting <= latency + 0.001, "\(mode) \(name): waiting max \(waiting) ms, latency max \(latency) ms")
            }
        }
    }

    @Test func tlsWithConnectionCloseHasAConnectAndAHandshakePerRequest() throws {
        let nginx = try Nginx(logFormat: "$ssl_session_reused $connection")
        defer { nginx.stop() }
        let requests = 40
        let report = try bench(["https://127.0.0.1:\(nginx.tlsPort)/", "--insecure", "-H", "Connection: close", "--connections", "2",
                                "--requests", String(requests)])
        #expect(report["responses"] as? Int == requests)
        let log = try nginx.accessLog(expecting: requests)
        let connections = Set(log.compactMap { $0.split(separator: " ").last })
        let resumed = log.filter { $0.hasPrefix("r ") }.count
        // Every request came on a connection of its own, and each had a connect and a handshake.
        #expect(log.count == requests && connections.count == requests, "\(log.count) lines, \(connections.count) connections")
        #expect(report["connects"] as? Int == requests && report["tls_handshakes"] as? Int == requests, "\(report["connects"] ?? "-")")
        #expect(((report["connect_us"] as? [String: Any])?["p50"] as? Int ?? 0) > 0)
        #expect(((report["tls_us"] as? [String: Any])?["p50"] as? Int ?? 0) > 0)
        // The resumed handshakes are the ones nginx says were resumed.
        #expect(report["tls_resumed"] as? Int == resumed && resumed > 0, "nginx resumed \(resumed), the report \(report["tls_resumed"] ?? "-")")
    }
}
