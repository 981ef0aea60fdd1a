import Foundation

/// A `stampede driver` process (no listening port: it is ready once its registration is seen).
public final class DriverProcess {
    public let id: String
    public let process = Process()

    /// - Parameters:
    ///   - log: where the driver's stderr goes (nil: discarded).
    ///   - inside: a command prefix that runs it elsewhere (`ip netns exec NS`: a test host).
    ///   - environment: added to this process's environment (e.g. LD_PRELOAD).
    public init(brokers: String, id: String, prefix: String, extraArguments: [String] = [], log: URL? = nil,
                inside: [String] = [], environment: [String: String]? = nil) throws {
        self.id = id
        let arguments = ["driver", "--brokers", brokers, "--id", id, "--topic-prefix", prefix] + extraArguments
        if inside.isEmpty {
            process.executableURL = stampedeBinary
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: inside[0])
            process.arguments = Array(inside.dropFirst()) + [stampedeBinary.path] + arguments
        }
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, b in b } }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try log.map { url in
            FileManager.default.createFile(atPath: url.path, contents: nil)
            return try FileHandle(forWritingTo: url)
        } ?? FileHandle.nullDevice
        try process.run()
    }

    /// A driver configured through the environment only (`STAMPEDE_*`), no flags.
    public init(environment: [String: String]) throws {
        id = environment["STAMPEDE_ID"] ?? "?"
        process.executableURL = stampedeBinary
        process.arguments = ["driver"]
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { _, b in b }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    public var isRunning: Bool { process.isRunning }

    /// SIGTERM (the driver interrupts its test, reports and leaves), SIGKILL after 10 s; the exit status.
    @discardableResult
    public func terminate() -> Int32 {
        if process.isRunning { process.terminate() }
        for _ in 0..<500 where process.isRunning { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGKILL: no final message, no goodbye.
    public func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { terminate() } }
}

/// A process's resident set (VmRSS, KiB) from /proc; 0 when it cannot be read.
public func residentKiB(_ pid: Int32) -> Int {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
}
