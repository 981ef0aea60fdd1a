import Foundation
import Histogram
import Testing
import TestSupport

/// The parts of the report JSON these tests read.
struct Report: Decodable {
    struct Errors: Decodable { let connect, tls, timeout, read, write, parse, status_4xx, status_5xx: Int }
    struct Latency: Decodable { let min, p50, p90, p99, p999, max: Int64; let mean: Double }
    struct Thresholds: Decodable { let passed: Bool }
    let mode: String
    let requests: Int
    let responses: Int
    let rps: Double
    let duration_s: Double
    let errors: Errors
    let latency_us: Latency
    let service_time_us: Latency?
    let histogram: String
    let thresholds: Thresholds
    let tls_handshakes: Int?
    let tls_resumed: Int?
    let retried_stale: Int?
}

func bench(_ arguments: [String], timeout: Double = 180) throws -> (CommandResult, Report?) {
    let result = try runCommand(stampedeBinary, ["bench"] + arguments, timeout: timeout)
    let report = try? JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
    return (result, report)
}

/// End-to-end runs of `stampede bench` against real servers: nginx (access log on) and
/// `stampede target`. Serialized: they share two cores and some assert on rates.
@Suite(.serialized) struct BenchTests {
    @Test func sendsExactlyTheRequestedCountToNginx() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let (run, report) = try bench(["http://127.0.0.1:\(nginx.port)/", "--requests", "100000", "--connections", "50", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let r = try #require(report)
        #expect(r.requests == 100_000)
        #expect(r.responses == 100_000)
        #expect(r.errors.connect + r.errors.read + r.errors.write + r.errors.parse + r.errors.timeout == 0)
        #expect(try nginx.accessLogLines(expecting: 100_000) == 100_000)
    }

    @Test func fewerRequestsThanConnectionsSendsExactlyThat() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let (run, report) = try bench(["http://127.0.0.1:\(nginx.port)/", "--requests", "7", "--connections", "50", "--threads", "2", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(report?.requests == 7 && report?.responses == 7)
        #expect(try nginx.accessLogLines(expecting: 7) == 7)
    }

    @Test func sendsExactlyTheRequestedCountOverVerifiedTLS() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let (run, report) = try bench(["https://127.0.0.1:\(nginx.tlsPort)/", "--requests", "100000", "--connections", "50",
                                       "--cacert", nginx.certificate, "--json"], timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        let r = try #require(report)
        #expect(r.requests == 100_000 && r.responses == 100_000)
        // nginx closes a connection every 1000 requests: reconnects resume the TLS session.
        #expect((r.tls_handshakes ?? 0) >= 100)
        #expect((r.tls_resumed ?? 0) > (r.tls_handshakes ?? 0) / 2, "handshakes \(r.tls_handshakes ?? 0), resumed \(r.tls_resumed ?? 0)")
        #expect(try nginx.accessLogLines(expecting: 100_000) == 100_000)
    }

    @Test func refusesAnUnverifiedCertificateUnlessInsecure() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let url = "https://127.0.0.1:\(nginx.tlsPort)/"
        let (refused, _) = try bench([url, "--requests", "10", "--connections", "2"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("certificate verification failed"), "\(refused.stderr)")
        let (insecure, report) = try bench([url, "--requests", "10", "--connections", "2", "--insecure", "--json"])
        #expect(insecure.status == 0 && report?.responses == 10)
    }

    @Test func tsunamiHoldsTheRequestedRate() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let (run, report) = try bench(["http://127.0.0.1:\(nginx.port)/", "--mode", "tsunami", "--rate", "2000",
                                       "--duration", "5", "--connections", "20", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let r = try #require(report)
        #expect(abs(Double(r.responses) - 10_000) <= 100, "responses \(r.responses)")
        #expect(abs(r.rps - 2000) <= 20, "rps \(r.rps)")
        #expect(r.mode == "tsunami" && r.service_time_us != nil)
    }

    @Test func correctedLatencyShowsAServerStall() throws {
        let port = freePort()
        let target = try ServerProcess(stampedeBinary, ["target", "--listen", "127.0.0.1:\(port)", "--stall-at-s", "1", "--stall-ms", "1000"], port: port)
        defer { target.stop() }
        let (run, report) = try bench(["http://127.0.0.1:\(port)/", "--mode", "tsunami", "--rate", "200",
                                       "--duration", "3", "--connections", "10", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let r = try #require(report)
        let service = try #require(r.service_time_us)
        // About a third of the scheduled requests fell into the 1 s stall: measured from their
        // intended send time they waited up to a second (wrk2's view). The service time, measured
        // from the actual send, hides most of it (wrk's view).
        #expect(r.latency_us.p99 >= 900_000, "corrected p99 \(r.latency_us.p99) µs")
        #expect(r.latency_us.p90 >= 300_000, "corrected p90 \(r.latency_us.p90) µs")
        #expect(service.p90 < 100_000, "service p90 \(service.p90) µs")
        #expect(abs(Double(r.requests) - 600) <= 12, "requests \(r.requests)")
    }

    /// `--latency` (wrk's flag) prints the spectrum of the same corrected histogram the summary's
    /// percentiles come from: the stall shows from 90 % on.
    @Test func latencyDistributionIsTheSummarysHistogram() throws {
        let port = freePort()
        let target = try ServerProcess(stampedeBinary, ["target", "--listen", "127.0.0.1:\(port)", "--stall-at-s", "1", "--stall-ms", "1000"], port: port)
        defer { target.stop() }
        let (run, _) = try bench(["http://127.0.0.1:\(port)/", "--mode", "tsunami", "--rate", "200", "--duration", "3",
                                  "--connections", "10", "--latency"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let summary = try #require(lines.first { $0.first == "Latency" }, "\(run.stdout)")  // min p50 p90 p99 p99.9 max mean
        let spectrum = Dictionary(lines.filter { $0.count == 2 && $0[0].hasSuffix("%") }.map { ($0[0], $0[1]) }, uniquingKeysWith: { a, _ in a })
        #expect(spectrum.count == 8, "\(run.stdout)")
        #expect(spectrum["50.000%"] == summary[2] && spectrum["90.000%"] == summary[3] && spectrum["99.000%"] == summary[4]
                && spectrum["99.900%"] == summary[5] && spectrum["100.000%"] == summary[6], "\(run.stdout)")
        #expect(spectrum["99.000%"]?.hasSuffix("ms") == true && Double(spectrum["99.000%"]!.dropLast(2)) ?? 0 >= 900, "\(run.stdout)")
        #expect(run.stdout.contains("Latency Distribution (from the intended send time)"))
    }

    @Test func reportHistogramAndHlogDecodeWithPython() throws {
        let nginx = try Nginx()
        defer { nginx.stop() }
        let hlog = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-\(UUID()).hlog").path
        defer { try? FileManager.default.removeItem(atPath: hlog) }
        let (run, report) = try bench(["http://127.0.0.1:\(nginx.port)/", "--duration", "3", "--connections", "10",
                                       "--json", "--hlog", hlog])
        #expect(run.status == 0, "\(run.stderr)")
        let r = try #require(report)
        let ps = [50.0, 90, 99, 99.9]
        let decoded = try python("decode", ["b64": [r.histogram], "percentiles": ps], as: [PythonStats].self)[0]
        #expect(decoded.total == Int64(r.responses))
        #expect(decoded.values == [r.latency_us.p50, r.latency_us.p90, r.latency_us.p99, r.latency_us.p999])
        #expect(decoded.max == r.latency_us.max && decoded.min == r.latency_us.min)
        struct Log: Decodable { let intervals: [Int64]; let total: Int64 }
        let log = try python("readlog", ["path": hlog, "percentiles": ps], as: Log.self)
        #expect(log.total == Int64(r.responses))
        #expect(log.intervals.count >= 3 && log.intervals.count <= 4, "intervals \(log.intervals)")
    }

    @Test func exitCodesNameTheProblem() throws {
        let (usage, _) = try bench(["http://127.0.0.1:1/", "--connections", "0"])
        #expect(usage.status == 2 && usage.stderr.contains("--connections"))
        let (both, _) = try bench(["http://127.0.0.1:1/", "--requests", "5", "--duration", "1"])
        #expect(both.status == 2 && both.stderr.contains("--requests"))
        let (rate, _) = try bench(["http://127.0.0.1:1/", "--rate", "5"])
        #expect(rate.status == 2 && rate.stderr.contains("--rate"))
        let (url, _) = try bench(["ftp://127.0.0.1/"])
        #expect(url.status == 2 && url.stderr.contains("URL"))
        let (threshold, _) = try bench(["http://127.0.0.1:1/", "--threshold", "p98_ms=3"])
        #expect(threshold.status == 2 && threshold.stderr.contains("--threshold"))

        let closed = freePort()
        let (unreachable, report) = try bench(["http://127.0.0.1:\(closed)/", "--requests", "10", "--json"])
        #expect(unreachable.status == 1 && unreachable.stderr.contains("Connection refused"))
        #expect((report?.errors.connect ?? 0) > 0 && report?.requests == 0)

        let nginx = try Nginx()
        defer { nginx.stop() }
        let (failed, failedReport) = try bench(["http://127.0.0.1:\(nginx.port)/", "--requests", "100", "--threshold", "p99_ms=0.001", "--json"])
        #expect(failed.status == 3 && failedReport?.thresholds.passed == false)
        let (passed, _) = try bench(["http://127.0.0.1:\(nginx.port)/", "--requests", "100", "--threshold", "error_rate=0"])
        #expect(passed.status == 0)
    }
}
