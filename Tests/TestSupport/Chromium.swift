import Foundation

/// Headless Chromium with its DevTools protocol on a free port and a throw-away profile; the
/// Python scripts in Tests/Interop drive it. Stopped (and the profile removed) by `stop()`.
public final class HeadlessChromium {
    public let devtoolsPort: Int
    private let process = Process()
    private let profile: URL

    public init(url: String = "about:blank", windowSize: String = "1280,1100") throws {
        devtoolsPort = freePort()
        profile = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-chromium-\(UUID().uuidString)")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
        process.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=\(windowSize)",
                             "--remote-debugging-port=\(devtoolsPort)", "--user-data-dir=\(profile.path)", url]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Runs Tests/Interop/`script` with the DevTools port first, then `arguments`.
    public func drive(_ script: String, _ arguments: [String], timeout: Double = 60) throws -> CommandResult {
        try runCommand(repositoryRoot.appendingPathComponent(".venv/bin/python"),
                       [repositoryRoot.appendingPathComponent("Tests/Interop/\(script)").path, String(devtoolsPort)] + arguments,
                       timeout: timeout)
    }

    public func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: profile)
    }

    deinit { stop() }
}

/// nginx answering `/limited` from a file (limit_req runs after `return`) at most `rate`
/// requests/s (burst 50, nodelay), over-limit requests answered 503.
public func rateLimitedNginx(rate: Int) throws -> Nginx {
    let nginx = try Nginx(httpSettings: "limit_req_zone $binary_remote_addr zone=limited:1m rate=\(rate)r/s;",
                          locations: """
                              location = /limited { limit_req zone=limited burst=50 nodelay; limit_req_status 503;
                                                    default_type text/plain; alias ok.txt; }
                              """)
    try "ok\n".write(to: nginx.directory.appendingPathComponent("ok.txt"), atomically: true, encoding: .utf8)
    return nginx
}
