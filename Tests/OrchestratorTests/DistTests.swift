import Foundation
import Testing
import TestSupport

/// The tarball of `make dist` (which `make test` builds first), extracted in a scratch directory
/// and run with an environment stripped to PATH.
@Suite(.serialized) struct DistTests {
    @Test func theTarballRunsWithoutTheToolchain() throws {
        let dist = repositoryRoot.appendingPathComponent("dist")
        let tarball = try #require(try FileManager.default.contentsOfDirectory(atPath: dist.path).first { $0.hasSuffix(".tar.gz") },
                                   "no dist/*.tar.gz: make test runs make dist first")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-dist-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        #expect(try runCommand(URL(fileURLWithPath: "/usr/bin/tar"), ["-C", scratch.path, "-xzf", dist.appendingPathComponent(tarball).path]).status == 0)
        let root = scratch.appendingPathComponent(String(tarball.dropLast(".tar.gz".count)))
        let binary = root.appendingPathComponent("bin/stampede")
        for part in ["systemd/stampede-driver.service", "systemd/stampede-orchestrator.service", "env/driver.env", "lib/librdkafka.so.1"] {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(part).path), "\(part) is missing")
        }

        // No library from the Swift toolchain, nothing missing, librdkafka from the tarball.
        let ldd = try runCommand(URL(fileURLWithPath: "/usr/bin/ldd"), [binary.path])
        #expect(!ldd.stdout.contains("/swift/") && !ldd.stdout.contains("libswift") && !ldd.stdout.contains("not found"), "\(ldd.stdout)")
        let rdkafka = ldd.stdout.split(separator: "\n").first { $0.contains("librdkafka") } ?? ""
        #expect(rdkafka.contains(root.appendingPathComponent("bin/../lib/librdkafka.so.1").path), "\(rdkafka)")

        func stripped(_ arguments: [String]) -> Process {
            let p = Process()
            p.executableURL = binary
            p.arguments = arguments
            p.environment = ["PATH": "/usr/bin:/bin"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            return p
        }
        let version = try runCommand(URL(fileURLWithPath: "/usr/bin/env"), ["-i", "PATH=/usr/bin:/bin", binary.path, "version"])
        #expect(version.status == 0 && version.stdout.contains("librdkafka 2."), "\(version.stdout) \(version.stderr)")

        // A driver from the tarball registers and runs a test to completion.
        let nginx = try Nginx()
        defer { nginx.stop() }
        let cluster = try Cluster(drivers: 0)
        defer { cluster.stop() }
        let driver = stripped(["driver", "--brokers", cluster.broker.brokers, "--id", "dist-1", "--topic-prefix", cluster.prefix])
        try driver.run()
        defer { driver.terminate(); driver.waitUntilExit() }
        try waitUntil(seconds: 30) { try cluster.idleDrivers() == 1 }
        #expect(try cluster.startTest("dist-t", #"{"message_count_per_driver": 2000, "target": "http://127.0.0.1:\#(nginx.port)/"}"#) == 202)
        let detail = try cluster.waitForTest("dist-t")
        let report = try #require(detail["report"] as? [String: Any])
        #expect(report["drivers"] as? [String] == ["dist-1"] && report["responses"] as? Int == 2000, "\(report)")
        #expect(try nginx.accessLogLines(expecting: 2000) == 2000)
    }
}
