import Foundation
import Testing
import TestSupport

/// nginx logging each request's end time (epoch seconds, ms) and URI.
func timedNginx() throws -> Nginx { try Nginx(logFormat: "$msec $request_uri $status") }

/// Requests per whole second of a run, from nginx's log, counting from `start` (epoch seconds).
func perSecond(_ lines: [String], from start: Double) -> [Int: Int] {
    var counts: [Int: Int] = [:]
    for line in lines {
        guard let t = line.split(separator: " ").first.flatMap({ Double($0) }) else { continue }
        counts[Int((t - start).rounded(.down)), default: 0] += 1
    }
    return counts
}

func startedAt(_ report: [String: Any]) -> Double {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return f.date(from: report["started_at"] as? String ?? "")?.timeIntervalSince1970 ?? 0
}

/// Requests intended in second s of a ramp from 500 to 3000 req/s over 10 s, then 5 s at 3000.
func rampIntegral(_ t: Double) -> Double { t <= 10 ? 500 * t + 125 * t * t : rampIntegral(10) + 3000 * (t - 10) }

/// Load that changes over time: tsunami ramps follow the integral of the rate, avalanche
/// ramps the connection count, each checked against nginx's access log.
@Suite(.serialized) struct StageTests {
    @Test func tsunamiRampSendsTheIntegralOfTheRateEachSecond() throws {
        let nginx = try timedNginx()
        defer { nginx.stop() }
        let hlog = try temporaryFile("ramp.hlog", "")
        let run = try runCommand(stampedeBinary, ["bench", "http://127.0.0.1:\(nginx.port)/", "--mode", "tsunami", "--start", "500",
                                                  "--stage", "10s:3000", "--stage", "5s:3000", "-c", "50", "--json", "--hlog", hlog],
                                 timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try jsonObject(run.stdout)
        let total = Int(rampIntegral(15))
        #expect(report["requests"] as? Int == total, "\(report["requests"] ?? "-") requests, the integral is \(total)")
        let lines = try nginx.accessLog(expecting: total)
        #expect(lines.count == report["requests"] as? Int)
        let counts = perSecond(lines, from: startedAt(report))
        for s in 0..<15 {
            let intended = rampIntegral(Double(s + 1)) - rampIntegral(Double(s))
            let got = Double(counts[s] ?? 0)
            #expect(abs(got - intended) <= 0.05 * intended, "second \(s): nginx logged \(got), intended \(intended)")
        }
        // The hlog's seconds agree with nginx's, and say what was intended.
        struct Log: Decodable { let intervals: [Int64]; let total: Int64 }
        let log = try python("readlog", ["path": hlog, "percentiles": [50.0]], as: Log.self)
        #expect(log.total == Int64(total) && log.intervals.count == 15)
        for (s, n) in log.intervals.enumerated() {
            let logged = counts[s] ?? 0
            #expect(abs(Int(n) - logged) <= max(5, logged / 100), "second \(s): hlog \(n), nginx \(logged)")
        }
        let comments = try String(contentsOfFile: hlog, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("#target_rate") }
        #expect(comments.count == 15 && comments.first == "#target_rate 625.0 at 0..1 s", "\(comments.prefix(2))")
    }

    @Test func aStallDuringARampShowsInCorrectedLatencyOnly() throws {
        let nginx = try timedNginx()
        defer { nginx.stop() }
        let worker = try nginx.workerPID()
        // nginx's worker stops for 1 s at 5 s into the run.
        let stall = Thread {
            Thread.sleep(forTimeInterval: 5)
            kill(worker, SIGSTOP)
            Thread.sleep(forTimeInterval: 1)
            kill(worker, SIGCONT)
        }
        stall.start()
        let run = try runCommand(stampedeBinary, ["bench", "http://127.0.0.1:\(nginx.port)/", "--mode", "tsunami", "--start", "500",
                                                  "--stage", "10s:3000", "--stage", "5s:3000", "-c", "50", "--json"], timeout: 120)
        kill(worker, SIGCONT)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try jsonObject(run.stdout)
        let latency = report["latency_us"] as? [String: Any] ?? [:]
        let service = report["service_time_us"] as? [String: Any] ?? [:]
        let p99 = latency["p99"] as? Int ?? 0, serviceP99 = service["p99"] as? Int ?? .max
        #expect(p99 >= 500_000, "corrected p99 \(p99) µs")
        #expect(serviceP99 < p99 / 5, "service-time p99 \(serviceP99) µs vs corrected \(p99) µs")
        #expect(report["requests"] as? Int == Int(rampIntegral(15)))
    }

    @Test func avalancheRampOpensAndClosesConnectionsWithoutErrors() throws {
        let nginx = try timedNginx()
        defer { nginx.stop() }
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: reports) }
        // stampede run prints a progress line per second when stderr is not a terminal.
        let run = try runCommand(stampedeBinary, ["run", "http://127.0.0.1:\(nginx.port)/", "--drivers", "1", "--stage", "5s:200",
                                                  "--stage", "5s:200", "--stage", "2s:0", "--json", "--reports-dir", reports.path],
                                 timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try jsonObject(run.stdout)
        let errors = report["errors"] as? [String: Int] ?? [:]
        #expect(errors.values.reduce(0, +) == 0, "\(errors)")
        #expect(try nginx.accessLogLines(expecting: report["requests"] as? Int ?? 0) == report["requests"] as? Int)
        var seconds = 0
        for line in run.stderr.split(separator: "\n") where line.contains("connections (target") {
            // "[3s/12s] 40210 req/s  120 connections (target 120)  p99 …"
            let words = line.split(separator: " ")
            guard let at = words.firstIndex(of: "connections"), let open = Int(words[at - 1]),
                  let target = Int(words[at + 2].dropLast()) else { continue }
            seconds += 1
            #expect(abs(open - target) <= 12, "\(line)")
        }
        #expect(seconds >= 11, "progress lines: \(run.stderr)")
        #expect(report["connections"] as? Int == 200)
    }

    @Test func badStagesExitTwoNamingTheFlag() throws {
        let url = "http://127.0.0.1:9/"
        let cases: [(arguments: [String], expected: String)] = [
            (["--stage", "0s:100"], "--stage: stage 1: the duration must be positive"),
            (["--stage", "5s:100", "--stage", "-2s:10"], "--stage: stage 2: the duration must be positive"),
            (["--stage", "5s:-1"], "--stage: stage 1: the target must be"),
            (["--stage", "5s:10", "--duration", "5"], "--stage and --duration are exclusive"),
            (["--stage", "5s:10", "-c", "20"], "--connections: avalanche stages set the connections"),
            (["--mode", "tsunami", "--stage", "5s:10", "--rate", "5"], "--rate: stages set the rate"),
            (["--start", "5"], "--start: only applies with --stage"),
            (["--stage", "fast"], "'fast' is not DURATION:TARGET: e.g. 10s:500"),
            (["-d", "1x"], "'1x' is not a duration: give seconds (30, 0.5) or a number with ms, s, m or h"),
            (["--mode", "avalanche", "-R", "5"], "--rate: only applies to the tsunami mode"),
        ]
        for c in cases {
            let run = try runCommand(stampedeBinary, ["bench", url] + c.arguments + ["--dry-run"])
            #expect(run.status == 2 && run.stderr.contains(c.expected), "\(c.arguments): \(run.status) \(run.stderr)")
        }
    }
}
