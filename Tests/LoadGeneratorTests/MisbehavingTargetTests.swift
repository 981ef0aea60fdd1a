import Foundation
import Testing
import TestSupport

/// Targets that misbehave (a small Python server per mode): every request ends as a classified
/// error, the run finishes, and memory stays bounded.
@Suite(.serialized) struct MisbehavingTargetTests {
    static let cases: [(mode: String, kind: String)] = [
        ("close-mid-response", "read"),
        ("garbage-status", "parse"),
        ("huge-headers", "parse"),
        ("endless-chunked", "timeout"),
        ("never-answers", "timeout"),
        ("reset", "read"),
        ("slow-trickle", "timeout"),
    ]

    @Test(arguments: cases.indices)
    func everyFailureIsClassifiedAndTheRunGoesOn(index: Int) throws {
        let (mode, kind) = Self.cases[index]
        let port = freePort()
        let server = try ServerProcess(repositoryRoot.appendingPathComponent(".venv/bin/python"),
                                       [repositoryRoot.appendingPathComponent("Tests/Interop/bad_target.py").path, mode, String(port)],
                                       port: port)
        defer { server.stop() }
        // /usr/bin/time reports the bench's peak RSS (KiB) on stderr after its own output.
        let run = try runCommand(URL(fileURLWithPath: "/usr/bin/time"),
                                 ["-f", "maxrss_kib=%M", stampedeBinary.path, "bench", "http://127.0.0.1:\(port)/",
                                  "--requests", "12", "--connections", "3", "--timeout-ms", "800", "--json"], timeout: 60)
        #expect(run.status == 1, "nothing succeeded, so exit 1: \(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stderr)")
        let errors = report["errors"] as? [String: Int] ?? [:]
        #expect(report["requests"] as? Int == 12, "\(mode): \(report["requests"] ?? "")")
        #expect(report["responses"] as? Int == 0)
        #expect(errors[kind] == 12, "\(mode): errors \(errors)")
        let rss = run.stderr.split(separator: "\n").last { $0.hasPrefix("maxrss_kib=") }.flatMap { Int($0.dropFirst(11)) } ?? 0
        #expect(rss > 0 && rss < 150_000, "\(mode): peak RSS \(rss) KiB")
    }
}
