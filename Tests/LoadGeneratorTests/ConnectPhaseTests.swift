import Foundation
import Testing
import TestSupport

/// The connect phase: connections open before the measured schedule, at most 512 connects in
/// flight, timed and reported apart; a connection waiting for its slot sleeps.
@Suite(.serialized) struct ConnectPhaseTests {
    /// 15,000 connections at 1 request/s each. All connected at once as the schedule began (as
    /// before the phase existed), the first second had no response and p99 was 1.2 s; opened
    /// first, the first second is answered like the others.
    @Test func thousandsOfConnectionsOpenFirstAndAnswerFromTheFirstSecond() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let hlog = try temporaryFile("connect.hlog", "")
        // Four local addresses: from one, connect() itself slows down past half the ephemeral
        // port range (SourceAddressTests), and how much depends on what earlier tests left in
        // TIME_WAIT; the phase measured here is the client's.
        let run = try runCommand(stampedeBinary, ["bench", "http://127.0.0.1:\(nginx.port)/", "--mode", "tsunami", "-R", "15000",
                                                  "-d", "3", "-c", "15000", "--source-addrs", "127.0.0.2-127.0.0.5",
                                                  "--json", "--hlog", hlog], timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stderr.contains("ephemeral ports"), "\(run.stderr)")
        let report = try jsonObject(run.stdout)
        #expect(report["requests"] as? Int == 45_000 && report["responses"] as? Int == 45_000,
                "\(report["requests"] ?? "-") requests, \(report["responses"] ?? "-") responses")
        let errors = report["errors"] as? [String: Int] ?? [:]
        #expect(errors.values.allSatisfy { $0 == 0 }, "\(errors)")
        // The phase is reported apart: every connection's time to open, how long it took.
        let phase = report["connect_phase_s"] as? Double ?? -1
        #expect(phase > 0 && phase < 3, "connect_phase_s \(phase)")
        #expect(report["connect_phase_errors"] as? Int == 0)
        // (A few connects may wait a second for a SYN retransmit when nginx's accept queue of
        // 511 overflows: inside the phase, where it no longer delays a measured request.)
        let connect = report["connect_time_us"] as? [String: Any] ?? [:]
        let connectP50 = connect["p50"] as? Int ?? -1
        #expect(connectP50 >= 0 && connectP50 < 100_000, "\(connect)")
        // Answers from the first second on, and no second-long stall in the latency.
        let latency = report["latency_us"] as? [String: Any] ?? [:]
        #expect((latency["p99"] as? Int ?? .max) < 500_000, "latency \(latency)")
        struct Log: Decodable { let intervals: [Int64]; let total: Int64 }
        let log = try python("readlog", ["path": hlog, "percentiles": [50.0]], as: Log.self)
        // Three seconds, and at most a sliver of a fourth: answers to the slots just before 3 s
        // that arrive after it. (When connections closed as soon as their last slot was done,
        // 15,000 closes fell into the last second and 300-1,600 answers came after 3 s.)
        #expect(log.total == 45_000 && (log.intervals.count == 3 || (log.intervals.count == 4 && log.intervals[3] < 150)),
                "\(log.intervals)")
        #expect((log.intervals.first ?? 0) >= 14_500, "first second: \(log.intervals)")
    }

    /// 1,000 connections at 100 req/s: each sends once every 10 s and must sleep in between (a
    /// connected socket is always writable: watched for writing, it would wake the reactor in a loop).
    @Test func connectionsWaitingForTheirSlotCostNoCPU() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let before = childCPUSeconds()
        let run = try runCommand(stampedeBinary, ["bench", "http://127.0.0.1:\(nginx.port)/", "--mode", "tsunami", "-R", "100",
                                                  "-d", "3", "-c", "1000", "--json"], timeout: 60)
        let cpu = childCPUSeconds() - before
        #expect(run.status == 0, "\(run.stderr)")
        let report = try jsonObject(run.stdout)
        #expect(report["requests"] as? Int == 300, "\(report["requests"] ?? "-")")
        #expect(cpu < 1.0, "stampede used \(cpu) s of CPU for 3 s of 100 req/s")
    }
}

/// User and system CPU of the children waited for so far.
func childCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
