import Foundation
import Testing
import TestSupport

/// `stampede target` (the HTTP server on the reactor) out of file descriptors.
@Suite(.serialized) struct TargetLimitsTests {
    static func cpuSeconds(_ pid: Int32) throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
        let fields = stat.split(separator: ")").last!.split(separator: " ")
        return (Double(fields[11])! + Double(fields[12])!) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test func runningOutOfDescriptorsPausesAcceptingInsteadOfSpinning() throws {
        let port = freePort()
        let target = try ServerProcess(URL(fileURLWithPath: "/usr/bin/prlimit"),
                                       ["--nofile=32:32", stampedeBinary.path, "target", "--listen", "127.0.0.1:\(port)"], port: port)
        defer { target.stop() }
        let pid = target.process.processIdentifier
        let before = try Self.cpuSeconds(pid)
        let run = try runCommand(stampedeBinary, ["bench", "http://127.0.0.1:\(port)/", "--duration", "3", "--connections", "60", "--mode", "tsunami", "--rate", "200",
                                                  "--timeout-ms", "500", "--json"], timeout: 60)
        let used = try Self.cpuSeconds(pid) - before
        let report = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stderr)")
        // Some connections are served; the ones the target cannot accept time out.
        #expect((report["responses"] as? Int ?? 0) > 0)
        #expect(((report["errors"] as? [String: Int])?["timeout"] ?? 0) > 0)
        #expect(used < 0.8, "the target used \(used) CPU-seconds in a 3 s run")
        #expect(target.process.isRunning)
    }
}
