import Foundation
import Testing
import TestSupport

/// Targets that misbehave (a small Python server per mode): every request ends as a classified
/// error, the run finishes, and memory stays bounded.
@Suite(.serialized) struct MisbehavingTargetTests {
    /// Each mode, the error kind it must count, and what the run's first error must say.
    static let cases: [(mode: String, kind: String, says: String)] = [
        ("close-mid-response", "read", "the server closed the connection before the response ended"),
        ("garbage-status", "parse", "invalid status line"),
        ("huge-headers", "parse", "headers larger than"),
        ("endless-chunked", "timeout", "no complete response within the 800 ms timeout"),
        ("never-answers", "timeout", "no complete response within the 800 ms timeout"),
        ("reset", "read", "Connection reset"),
        ("slow-trickle", "timeout", "no complete response within the 800 ms timeout"),
    ]

    @Test(arguments: cases.indices)
    func everyFailureIsClassifiedAndTheRunGoesOn(index: Int) throws {
        let (mode, kind, says) = Self.cases[index]
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
        // The first error names the target and what went wrong (the summary and exit 1 print it).
        #expect(run.stderr.contains("no response was received: ") && run.stderr.contains("127.0.0.1:\(port)") && run.stderr.contains(says),
                "\(mode): \(run.stderr)")
        #expect((report["first_error"] as? String)?.contains(says) == true, "\(mode): \(report["first_error"] ?? "none")")
        let rss = run.stderr.split(separator: "\n").last { $0.hasPrefix("maxrss_kib=") }.flatMap { Int($0.dropFirst(11)) } ?? 0
        #expect(rss > 0 && rss < 150_000, "\(mode): peak RSS \(rss) KiB")
    }
}

/// A 16 MiB upload to a server that answers or closes after the request's head: the client's body
/// writes meet a closed connection (EPIPE or a reset), which is a counted error, never a signal
/// that ends the process. The body is larger than loopback's socket buffers (4 MiB at most), so
/// the client is still writing when the server's close arrives. `answer-then-shut` ends the
/// server's side cleanly before its close, so the client's next write fails with EPIPE, not a
/// reset: the code before SIGPIPE was ignored died of it (exit 141), where a reset alone (the
/// other two modes) never raised the signal.
@Suite(.serialized) struct UploadRefusedTests {
    @Test(arguments: ["answer-early", "close-after-head", "answer-then-shut"])
    func aRefusedUploadIsCountedAndTheRunEnds(mode: String) throws {
        let port = freePort()
        let server = try ServerProcess(repositoryRoot.appendingPathComponent(".venv/bin/python"),
                                       [repositoryRoot.appendingPathComponent("Tests/Interop/bad_target.py").path, mode, String(port)],
                                       port: port)
        defer { server.stop() }
        let body = FileManager.default.temporaryDirectory.appendingPathComponent("upload-\(UUID().uuidString)")
        try Data(repeating: UInt8(ascii: "x"), count: 16 << 20).write(to: body)
        defer { try? FileManager.default.removeItem(at: body) }
        let run = try runCommand(stampedeBinary, ["bench", "http://127.0.0.1:\(port)/", "-m", "POST", "--body", "@\(body.path)",
                                                  "--requests", "20", "--connections", "4", "--timeout-ms", "2000", "--json"], timeout: 60)
        #expect(run.status == 0 || run.status == 1, "\(mode): an exit, not a signal (SIGPIPE: 13): \(run.status) \(run.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stderr)")
        let errors = report["errors"] as? [String: Int] ?? [:]
        #expect(report["requests"] as? Int == 20)
        #expect((errors["status_4xx"] ?? 0) + (errors["write"] ?? 0) + (errors["read"] ?? 0) == 20, "\(mode): \(errors)")
    }
}
