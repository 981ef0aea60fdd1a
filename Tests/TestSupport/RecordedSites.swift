import Foundation

/// The Django notes site of Tests/Interop/notes_site.py (its own login form and CSRF), and its log.
public struct NotesSite {
    public let server: ServerProcess
    public let log: URL
    public var base: String { "http://127.0.0.1:\(server.port)" }

    /// One login as the site logged it: the user and the last 12 characters of the session cookie it set.
    public struct Login: Hashable {
        public let user: String
        public let session: String
        public init(user: String, session: String) { self.user = user; self.session = session }
    }

    /// - Parameter users: user1...userN, password pw-userN.
    public init(users: Int) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("notes-\(UUID().uuidString).log")
        let port = freePort()
        server = try ServerProcess(repositoryRoot.appendingPathComponent(".venv/bin/python"),
                                   [repositoryRoot.appendingPathComponent("Tests/Interop/notes_site.py").path, String(port), log.path, String(users)],
                                   port: port) { try waitForPort(port, timeout: 60) }
    }

    public func stop() { server.stop() }

    public var lines: [String] {
        ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    public var logins: [Login] {
        lines.filter { $0.hasPrefix("LOGIN ") }.map { line in
            let f = line.split(separator: " ")
            return Login(user: String(f[1]), session: String(f[2]))
        }
    }
}

/// Records a HAR of `flow` with Playwright driving Debian's Chromium (Tests/Interop/record_har.py).
/// - Returns: the HAR file.
public func recordHAR(flow: String, base: String, user: String, password: String) throws -> URL {
    let har = FileManager.default.temporaryDirectory.appendingPathComponent("\(flow)-\(UUID().uuidString).har")
    let result = try runCommand(repositoryRoot.appendingPathComponent(".venv/bin/python"),
                                [repositoryRoot.appendingPathComponent("Tests/Interop/record_har.py").path, flow, base, har.path, user, password],
                                timeout: 90)
    guard result.status == 0, result.stdout.contains("recorded") else {
        throw ProcessFailure(description: "record_har.py \(flow) exited \(result.status): \(result.stdout)\(result.stderr)")
    }
    return har
}
