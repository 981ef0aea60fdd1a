import Foundation
import Testing
import TestSupport

/// Steering through the distributed system: orchestrator, two drivers and Tansu, against nginx
/// logging each request's time (`$msec`) and connection.
@Suite(.serialized) struct SteeringClusterTests {
    /// Requests nginx logged in each second after `startMs` (second k: from k-1 to k).
    static func perSecond(_ lines: [String], startMs: Double, seconds: Int) -> [Int] {
        var counts = Array(repeating: 0, count: seconds + 2)
        for line in lines {
            guard let ms = Double(line.split(separator: " ")[0]).map({ $0 * 1000 }) else { continue }
            let k = Int(((ms - startMs) / 1000).rounded(.down)) + 1
            if k >= 1 && k < counts.count { counts[k] += 1 }
        }
        return counts
    }

    /// Sleeps until `atS` seconds after `startMs`, less the orchestrator's lead, so that the
    /// change applies at about `atS`.
    static func sleep(until atS: Double, startMs: Double) {
        let due = startMs / 1000 + atS - 0.3
        while Date().timeIntervalSince1970 < due { usleep(10_000) }
    }

    /// A tsunami at 400 req/s changed to 1,000 at 5 s and back to 200 at 10 s, 15 s over two
    /// drivers, nginx stalling for 1 s just after the increase: nginx's seconds follow each change
    /// within a second, its count equals the report's requests, `intended` is the integral of the
    /// changed rate, and the stall shows in the latency from the intended sends.
    @Test func aTsunamisRateFollowsTwoChangesOnEveryDriver() throws {
        let nginx = try Nginx(logFormat: "$msec $connection $status")
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        let (created, answer) = try cluster.json("POST", "/tests", body: """
            {"test_id": "steer-rate", "test_type": "TSUNAMI", "target": "http://127.0.0.1:\(nginx.port)/", "connections": 20, "rate": 400,
             "duration_s": 15}
            """)
        #expect(created == 201, "\(answer)")
        let (triggered, trigger) = try cluster.json("POST", "/trigger", body: #"{"test_id": "steer-rate"}"#)
        #expect(triggered == 202, "\(trigger)")
        let startMs = try #require(trigger["start_at_ms"] as? Double)
        Self.sleep(until: 5, startMs: startMs)
        let (first, body) = try cluster.json("PATCH", "/tests/steer-rate", body: #"{"rate": 1000}"#)
        #expect(first == 202, "\(body)")
        // The server stalls for 1 s right after the increase: the latency from each request's
        // intended time (on the changed schedule) shows it, the service time does not.
        Self.sleep(until: 5.8, startMs: startMs)
        let worker = try nginx.workerPID()
        kill(worker, SIGSTOP)
        Thread.sleep(forTimeInterval: 1)
        kill(worker, SIGCONT)
        Self.sleep(until: 10, startMs: startMs)
        #expect(try cluster.json("PATCH", "/tests/steer-rate", body: #"{"rate": 200}"#).0 == 202)

        let (status, report, _) = try cluster.finishedTest("steer-rate", seconds: 60)
        #expect(status == "done")
        let requests = report["requests"] as? Int ?? 0
        let lines = try nginx.accessLog(expecting: requests)
        #expect(lines.count == requests)
        let changes = report["changes"] as? [[String: Any]] ?? []
        #expect(changes.map { $0["to"] as? Double } == [1_000, 200] && changes.map { $0["from"] as? Double } == [400, 1_000], "\(changes)")
        let at = changes.map { $0["at_s"] as? Double ?? 0 }
        #expect(at.count == 2 && abs(at[0] - 5) < 0.3 && abs(at[1] - 10) < 0.3, "\(at)")
        guard at.count == 2 else { return }
        let integral = 400 * at[0] + 1_000 * (at[1] - at[0]) + 200 * (15 - at[1])
        let intended = report["intended"] as? Int ?? 0
        #expect(abs(Double(intended) - integral) <= 3, "intended \(intended), integral \(integral)")
        #expect(requests == intended - (report["unsent"] as? Int ?? 0))
        // Each second away from a change at its rate (±5 %), each change followed within one second.
        let seconds = Self.perSecond(lines, startMs: startMs, seconds: 15)
        let p99 = (report["latency_us"] as? [String: Any])?["p99"] as? Int ?? 0
        let serviceP99 = (report["service_time_us"] as? [String: Any])?["p99"] as? Int ?? .max
        #expect(p99 >= 500_000 && serviceP99 < p99 / 5, "corrected p99 \(p99) µs, service p99 \(serviceP99) µs")
        // (Seconds 7 and 8 hold the stall and its catch-up.)
        for (range, rate) in [(2...4, 400.0), (Int(at[0]) + 4...9, 1_000), (Int(at[1]) + 2...15, 200)] {
            for k in range { #expect(abs(Double(seconds[k]) - rate) <= rate * 0.05, "second \(k): \(seconds[k]) requests, rate \(rate); \(seconds)") }
        }
        // The intended rate of each second follows the changes (latency.hlog's `#target_rate` lines).
        let hlog = try String(contentsOf: cluster.reportsDirectory.appendingPathComponent("steer-rate/latency.hlog"), encoding: .utf8)
        var target: [Int: Double] = [:]
        for line in hlog.split(separator: "\n") where line.hasPrefix("#target_rate ") {
            let f = line.split(separator: " ")  // "#target_rate 400.0 at 0..1 s"
            if let v = Double(f[1]), let end = Int(f[3].split(separator: ".").last ?? "") { target[end] = v }
        }
        for (k, rate) in [(3, 400.0), (8, 1_000), (13, 200)] { #expect(abs((target[k] ?? 0) - rate) < 1, "second \(k): \(target)") }
        // report.html marks each change on the per-second charts and lists them.
        let (pageStatus, page) = try cluster.api("GET", "/tests/steer-rate/report.html")
        #expect(pageStatus == 200 && page.components(separatedBy: "<g class=\"mark\">").count - 1 == 6 && page.contains("s: rate 1000"))
        // The finished test takes no change.
        let (late, refusal) = try cluster.json("PATCH", "/tests/steer-rate", body: #"{"rate": 5}"#)
        #expect(late == 409 && refusal["field"] as? String == "test_id", "\(late) \(refusal)")
    }

    /// An avalanche of 10 users (5 per driver, each pausing 100 ms between requests) raised to
    /// 40 and lowered to 10, then paused for 3 s: nginx sees the connections follow, nothing
    /// while paused, and the report says so.
    @Test func anAvalanchesUsersFollowAndAPauseSendsNothing() throws {
        let nginx = try Nginx(logFormat: "$msec $connection $status")
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 2)
        defer { cluster.stop() }
        let target = "http://127.0.0.1:\(nginx.port)/"
        let (created, answer) = try cluster.json("POST", "/tests", body: """
            {"test_id": "steer-users", "connections": 5, "duration_s": 18, "order": "sequence",
             "requests": [{"url": "\(target)", "think_ms": 100}]}
            """)
        #expect(created == 201, "\(answer)")
        let (_, trigger) = try cluster.json("POST", "/trigger", body: #"{"test_id": "steer-users"}"#)
        let startMs = try #require(trigger["start_at_ms"] as? Double)
        Self.sleep(until: 4, startMs: startMs)
        #expect(try cluster.json("PATCH", "/tests/steer-users", body: #"{"connections": 20}"#).0 == 202)
        Self.sleep(until: 8, startMs: startMs)
        #expect(try cluster.json("PATCH", "/tests/steer-users", body: #"{"connections": 5}"#).0 == 202)
        let (rate, refused) = try cluster.json("PATCH", "/tests/steer-users", body: #"{"rate": 5}"#)
        #expect(rate == 400 && refused["field"] as? String == "rate", "\(refused)")
        Self.sleep(until: 12, startMs: startMs)
        let (paused, pausedBody) = try cluster.json("POST", "/tests/steer-users/pause")
        #expect(paused == 202 && pausedBody["status"] as? String == "paused", "\(pausedBody)")
        #expect(try cluster.json("POST", "/tests/steer-users/pause").0 == 409)
        Self.sleep(until: 15, startMs: startMs)
        #expect(try cluster.json("POST", "/tests/steer-users/resume").0 == 202)

        let (status, report, _) = try cluster.finishedTest("steer-users", seconds: 60)
        #expect(status == "done")
        let lines = try nginx.accessLog(expecting: report["requests"] as? Int ?? 0)
        #expect(lines.count == report["requests"] as? Int)
        let changes = report["changes"] as? [[String: Any]] ?? []
        #expect(changes.map { $0["field"] as? String } == ["connections", "connections", "paused", "paused"], "\(changes)")
        let at = changes.map { $0["at_s"] as? Double ?? 0 }
        guard at.count == 4 else { return }
        let pausedS = report["paused_s"] as? Double ?? 0
        #expect(abs(pausedS - (at[3] - at[2])) < 0.01 && abs(pausedS - 3) < 0.3, "paused_s \(pausedS)")
        // Users per second: the connections nginx served requests on.
        func users(_ from: Double, _ to: Double) -> Int {
            Set(lines.compactMap { line -> Substring? in
                let f = line.split(separator: " ")
                guard let ms = Double(f[0]).map({ $0 * 1000 - startMs }), ms >= from * 1000, ms < to * 1000 else { return nil }
                return f[1]
            }).count
        }
        #expect(users(1, 3.5) == 10 && users(at[0] + 0.5, at[1] - 0.2) == 40 && users(at[1] + 0.5, at[2] - 0.2) == 10,
                "users \(users(1, 3.5)), \(users(at[0] + 0.5, at[1] - 0.2)), \(users(at[1] + 0.5, at[2] - 0.2))")
        // Paused: nothing sent (a request in flight at the pause takes ~1 ms), then the users again.
        let whilePaused = lines.filter { line in
            let ms = (Double(line.split(separator: " ")[0]) ?? 0) * 1000 - startMs
            return ms > at[2] * 1000 + 50 && ms < at[3] * 1000 - 20
        }
        #expect(whilePaused.isEmpty, "\(whilePaused.count) requests while paused")
        #expect(users(at[3] + 0.3, 17.5) == 10)
    }
}
