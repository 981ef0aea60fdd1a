import Foundation
import Synchronization

/// The `stampede` binary under test (debug build unless STAMPEDE_BIN says otherwise).
public let stampedeBinary: URL = {
    if let path = ProcessInfo.processInfo.environment["STAMPEDE_BIN"] { return URL(fileURLWithPath: path) }
    return repositoryRoot.appendingPathComponent(".build/debug/stampede")
}()

/// An optimized `stampede` for tests that judge the orchestrator's responsiveness as users run it:
/// the release tarball's binary (`make test` builds it first), else `swift build -c release`'s.
public let releaseStampedeBinary: URL? = {
    for path in [".build-dist/release/stampede", ".build/release/stampede"] {
        let url = repositoryRoot.appendingPathComponent(path)
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
    }
    return nil
}()

/// What a finished command printed and returned.
public struct CommandResult {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs a command to completion with `input` on its stdin, killing it after `timeout` seconds
/// (every load loop is bounded). Output is read while it runs, so no pipe fills up.
public func runCommand(_ executable: URL, _ arguments: [String], input: Data? = nil, timeout: Double = 120) throws -> CommandResult {
    guard FileManager.default.isExecutableFile(atPath: executable.path) else {
        throw ProcessFailure(description: "\(executable.path) is missing: run `make setup` (or `make test`) first")
    }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let out = Pipe(), err = Pipe(), stdin = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input == nil ? FileHandle.nullDevice : stdin
    try process.run()
    if let input {
        let writer = Thread {
            stdin.fileHandleForWriting.write(input)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
    }
    let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
    let stderrData = Mutex(Data())
    let stderrDone = DispatchSemaphore(value: 0)
    Thread { stderrData.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() }; stderrDone.signal() }.start()
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    killer.cancel()
    stderrDone.wait()
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                         stderr: String(decoding: stderrData.withLock { $0 }, as: UTF8.self))
}

/// A loopback port for a test's server: free now, and below the kernel's ephemeral range, so no
/// outgoing connection (a load test's, the broker's) can take it before the server binds it (CI
/// saw nginx fail to start on a port `bind(0)` had handed out and something else then used).
/// Each call in this process gives a different port; processes start at different places.
public func freePort() -> Int {
    let ephemeralLow = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))
        .flatMap { $0.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } } ?? 32768
    let low = 10_000, high = ephemeralLow - 1
    guard high - low > 1_000 else { return kernelChosenPort() }
    for _ in 0..<(high - low) {
        let port = low + nextTestPort.add(1, ordering: .relaxed).oldValue % (high - low + 1)
        if canBind(port: port) { return port }
    }
    return kernelChosenPort()
}

private let nextTestPort = Atomic<Int>(Int(getpid()) * 7 % 20_000)

private func canBind(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}

/// The kernel's choice (from the ephemeral range), where the host leaves no room below it.
private func kernelChosenPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// A blocking TCP socket connected to 127.0.0.1:`port`, or nil (the socket closed) if the connect failed.
public func connectLoopback(port: Int) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = UInt16(port).bigEndian
    let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    if rc == 0 { return fd }
    close(fd)
    return nil
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port` (at most `timeout` s).
public func waitForPort(_ port: Int, timeout: Double = 10) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if let fd = connectLoopback(port: port) {
            close(fd)
            return
        }
        usleep(20_000)
    }
    throw ProcessFailure(description: "nothing listens on 127.0.0.1:\(port) after \(timeout) s")
}

/// A server process started for a test and stopped (SIGTERM, then SIGKILL) when done.
public final class ServerProcess {
    public let process: Process
    public let port: Int

    public convenience init(_ executable: URL, _ arguments: [String], port: Int) throws {
        try self.init(executable, arguments, port: port) { try waitForPort(port) }
    }

    /// - Parameters:
    ///   - log: where stderr goes (nil: discarded).
    ///   - ready: returns once the server serves (throws if it does not in time).
    public init(_ executable: URL, _ arguments: [String], port: Int, environment: [String: String]? = nil, log: URL? = nil,
                ready: () throws -> Void) throws {
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, b in b } }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try log.map { url in
            FileManager.default.createFile(atPath: url.path, contents: nil)
            return try FileHandle(forWritingTo: url)
        } ?? FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        self.port = port
        try process.run()
        do { try ready() } catch { stop(); throw error }
    }

    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        for _ in 0..<100 where process.isRunning { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// nginx with one worker, its access log on, a plain and a TLS listener (self-signed certificate
/// for 127.0.0.1/localhost, generated here), all under a temporary directory.
public final class Nginx {
    public let directory: URL
    /// Where it listens: 127.0.0.1, or a test host's address.
    public let address: String
    public let port: Int
    public let tlsPort: Int
    public let certificate: String
    private let server: ServerProcess

    /// - Parameters:
    ///   - httpSettings: extra directives for the `http` block (e.g. `keepalive_timeout 1s;`).
    ///   - locations: extra `location` blocks, before the catch-all `location /` (200, a fixed body).
    ///   - logFormat: the access log's line format (nginx variables); nil: nginx's combined format.
    ///   - host: a test host to run on (its main address, ports 8080 and 8443); nil: loopback.
    public init(httpSettings: String = "", locations: String = "", logFormat: String? = nil,
                on host: (hosts: TestHosts, name: String)? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        address = host.map { $0.hosts.address($0.name) } ?? "127.0.0.1"
        port = host == nil ? freePort() : 8080
        tlsPort = host == nil ? freePort() : 8443
        let dir = directory.path
        certificate = "\(dir)/cert.pem"
        let openssl = try runCommand(URL(fileURLWithPath: "/usr/bin/openssl"), [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:\(address),DNS:localhost",
            "-keyout", "\(dir)/key.pem", "-out", certificate])
        guard openssl.status == 0 else { throw ProcessFailure(description: "openssl: \(openssl.stderr)") }
        let config = """
            worker_processes 1;
            worker_rlimit_nofile 20000;
            daemon off;
            pid \(dir)/nginx.pid;
            error_log \(dir)/error.log warn;
            events { worker_connections 16384; }
            http {
                \(logFormat.map { "log_format stampede '\($0)';" } ?? "")
                access_log \(dir)/access.log\(logFormat == nil ? "" : " stampede");
                client_body_temp_path \(dir)/body;
                proxy_temp_path \(dir)/proxy;
                fastcgi_temp_path \(dir)/fastcgi;
                uwsgi_temp_path \(dir)/uwsgi;
                scgi_temp_path \(dir)/scgi;
                keepalive_requests 1000;
                \(httpSettings)
                server {
                    listen \(address):\(port);
                    listen \(address):\(tlsPort) ssl;
                    ssl_certificate \(certificate);
                    ssl_certificate_key \(dir)/key.pem;
                    ssl_session_cache shared:SSL:1m;
                    \(locations)
                    location / { return 200 "hello from nginx\\n"; }
                }
            }
            """
        try config.write(toFile: "\(dir)/nginx.conf", atomically: true, encoding: .utf8)
        let arguments = ["-p", dir, "-c", "\(dir)/nginx.conf", "-e", "\(dir)/error.log"]
        if let host {
            let inside = host.hosts.inside(host.name)
            let (address, port) = (address, port)
            server = try ServerProcess(URL(fileURLWithPath: inside[0]), Array(inside.dropFirst()) + ["/usr/sbin/nginx"] + arguments,
                                       port: port) { try host.hosts.waitForPort(from: host.name, address, port) }
        } else {
            do {
                server = try ServerProcess(URL(fileURLWithPath: "/usr/sbin/nginx"), arguments, port: port)
                try waitForPort(tlsPort)
            } catch {
                let log = (try? String(contentsOfFile: "\(dir)/error.log", encoding: .utf8)) ?? "(no error.log)"
                throw ProcessFailure(description: "nginx on ports \(port) and \(tlsPort): \(error); its error.log: \(log.suffix(600))")
            }
        }
    }

    /// The worker process (nginx runs one), e.g. to stop it with SIGSTOP for a stall.
    public func workerPID() throws -> pid_t {
        let found = try runCommand(URL(fileURLWithPath: "/usr/bin/pgrep"), ["-P", String(server.process.processIdentifier)])
        guard let pid = found.stdout.split(separator: "\n").first.flatMap({ pid_t($0) }) else {
            throw ProcessFailure(description: "no nginx worker under \(server.process.processIdentifier): \(found.stderr)")
        }
        return pid
    }

    /// The access log's lines, once it holds at least `expected` (see `accessLogLines(expecting:)`).
    public func accessLog(expecting expected: Int, seconds: Double = 5) throws -> [String] {
        _ = try accessLogLines(expecting: expected, seconds: seconds)
        let text = try String(contentsOfFile: directory.appendingPathComponent("access.log").path, encoding: .utf8)
        return text.split(separator: "\n").map(String.init)
    }

    /// Lines in the access log (one per request nginx answered), now.
    public func accessLogLines() throws -> Int {
        let text = try String(contentsOfFile: directory.appendingPathComponent("access.log").path, encoding: .utf8)
        return text.split(separator: "\n").count
    }

    /// Lines in the access log once it has caught up: nginx writes a request's line after sending
    /// its response, so the client can finish first. Waits (bounded by `seconds`) until there are at
    /// least `expected` lines and the count holds for 100 ms (so an excess shows too), then
    /// returns the count.
    public func accessLogLines(expecting expected: Int, seconds: Double = 5) throws -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        var count = try accessLogLines()
        while Date() < deadline {
            usleep(100_000)
            let now = try accessLogLines()
            if now >= expected && now == count { return now }
            count = now
        }
        return count
    }

    /// Empties the access log (nginx keeps appending to the same open file).
    public func truncateAccessLog() throws {
        let handle = try FileHandle(forWritingTo: directory.appendingPathComponent("access.log"))
        try handle.truncate(atOffset: 0)
        try handle.close()
    }

    public func stop() {
        server.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
