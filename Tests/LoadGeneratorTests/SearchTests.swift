import Foundation
import Testing
import TestSupport

/// `stampede search` against servers whose capacity is known: nginx rate-limited to 2,000
/// requests/s, and a server slower than the SLO at any rate.
@Suite(.serialized) struct SearchTests {
    @Test func findsTheRateLimitOfNginx() throws {
        let nginx = try rateLimitedNginx(rate: 2000)
        defer { nginx.stop() }
        let started = Date()
        let run = try runCommand(stampedeBinary, ["search", "http://127.0.0.1:\(nginx.port)/limited", "--slo", "error_rate=0.01",
                                                  "--json"], timeout: 180)
        let elapsed = Date().timeIntervalSince(started)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(elapsed < 120, "took \(elapsed) s")
        let report = try jsonObject(run.stdout)
        let search = try #require(report["search"] as? [String: Any])
        let max = search["max_rate"] as? Double ?? 0
        #expect(abs(max - 2000) <= 200, "max_rate \(max); \(run.stderr)")
        let steps = search["steps"] as? [[String: Any]] ?? []
        #expect(steps.count >= 5 && steps.allSatisfy { ($0["responses"] as? Int ?? 0) > 0 })
        #expect(steps.contains { $0["passed"] as? Bool == false && ($0["failed"] as? [String]) == ["error_rate"] })
        // The table went to stderr with --json, ending with the answer.
        #expect(run.stderr.contains("Max rate: \(Int(max)) req/s"), "\(run.stderr)")
    }

    @Test func saysClearlyWhenNoRateHoldsTheSLO() throws {
        let port = freePort()
        let target = try ServerProcess(stampedeBinary, ["target", "--listen", "127.0.0.1:\(port)", "--delay-ms", "20"], port: port)
        defer { target.stop() }
        let run = try runCommand(stampedeBinary, ["search", "http://127.0.0.1:\(port)/", "--slo", "p99_ms=10", "--step-s", "2"], timeout: 60)
        #expect(run.status == 3, "\(run.stdout) \(run.stderr)")
        #expect(run.stdout.contains("No tested rate held the SLOs: no tested rate passed"), "\(run.stdout)")
        #expect(run.stdout.contains("FAIL (p99_ms)"), "\(run.stdout)")
    }

    /// `{{seq}}` is unique within the test: each step goes on from the numbers of the steps before
    /// (they started again from 0, so a search sent every early number once per step).
    @Test func sequenceNumbersGoOnFromStepToStep() throws {
        let nginx = try Nginx(logFormat: "$request_uri")
        defer { nginx.stop() }
        let run = try runCommand(stampedeBinary, ["search", "http://127.0.0.1:\(nginx.port)/item/{{seq}}", "--slo", "p99_ms=1000",
                                                  "--step-s", "1", "--start-rate", "50", "--max-rate", "200", "-c", "5", "--json"],
                                 timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        let requests = try jsonObject(run.stdout)["requests"] as? Int ?? 0
        let seqs = try nginx.accessLog(expecting: requests).compactMap { Int($0.split(separator: "/").last ?? "") }
        // Steps of 50, 100 and 200 req/s for a second each: 350 requests, numbered 0..<350.
        #expect(requests >= 300 && seqs.count == requests, "\(seqs.count) logged of \(requests)")
        #expect(Set(seqs).count == seqs.count && seqs.min() == 0 && seqs.max() == requests - 1, "\(seqs.sorted().prefix(5))…")
    }

    /// Nothing listens: no step has a response (and so no service time); the search ends without a
    /// passing rate and says why, as `bench` does (exit 1, the first error), instead of crashing
    /// on the connections' carrying capacity.
    @Test func aTargetThatRefusesEveryConnectFailsEveryStep() throws {
        let run = try runCommand(stampedeBinary, ["search", "http://127.0.0.1:\(freePort())/", "--slo", "p99_ms=50", "--step-s", "1",
                                                  "--max-rate", "100", "-c", "10"], timeout: 60)
        #expect(run.status == 1, "\(run.stdout) \(run.stderr)")
        #expect(run.stdout.contains("no response came back") && run.stdout.contains("No tested rate held the SLOs"), "\(run.stdout)")
        // Every attempt failed: 100 % errors, no p99 to show, and no advice to lower the rate.
        let step = run.stdout.split(separator: "\n").first { $0.contains("FAIL") }.map(String.init) ?? ""
        #expect(step.contains("100.00%") && step.contains(" - "), "\(step)")
        #expect(run.stdout.contains("is the target up?") && !run.stdout.contains("--start-rate"), "\(run.stdout)")
        #expect(run.stderr.contains("no response was received: connect") && run.stderr.contains("Connection refused"), "\(run.stderr)")
    }

    @Test func badSearchFlagsExitTwoNamingTheFlag() throws {
        let url = "http://127.0.0.1:9/"
        let cases: [(arguments: [String], expected: String)] = [
            ([url], "--slo: give at least one SLO"),
            ([url, "--slo", "p98_ms=5"], "--slo: expected NAME=VALUE"),
            ([url, "--slo", "min_rps=5"], "--slo: min_rps is what the search finds"),
            ([url, "--slo", "p99_ms=5", "--max-rate", "-1"], "--max-rate"),
            ([url, "--slo", "p99_ms=5", "--step-s", "0"], "--step-s"),
            ([url, "--slo", "p99_ms=5", "--rate", "100"], "--rate: the search sets the load"),
        ]
        for c in cases {
            let run = try runCommand(stampedeBinary, ["search"] + c.arguments)
            #expect(run.status == 2 && run.stderr.contains(c.expected), "\(c.arguments): \(run.status) \(run.stderr)")
        }
    }
}
