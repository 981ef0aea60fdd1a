import Foundation

/// The small website with a login of Tests/Interop/shop.py, and its log of every request.
public struct Shop {
    public let server: ServerProcess
    public let log: URL
    public var base: String { "http://127.0.0.1:\(server.port)" }

    /// One request as the site logged it.
    public struct Line {
        public let method: String
        public let path: String
        public let status: Int
        public let sid: String
        public let csrf: String
    }

    /// - Parameter stall: the whole site stalls for `ms` milliseconds, `atS` seconds after its first request.
    public init(stall: (atS: Double, ms: Int)? = nil) throws {
        log = FileManager.default.temporaryDirectory.appendingPathComponent("shop-\(UUID().uuidString).log")
        let port = freePort()
        var arguments = [repositoryRoot.appendingPathComponent("Tests/Interop/shop.py").path, String(port), log.path]
        if let stall { arguments += [String(stall.atS), String(stall.ms)] }
        server = try ServerProcess(repositoryRoot.appendingPathComponent(".venv/bin/python"), arguments, port: port)
    }

    public func stop() { server.stop() }

    /// The log's request lines (waiting up to 5 s for `count` of them); stall markers left out.
    public func lines(expecting count: Int) throws -> [Line] {
        var text = ""
        for _ in 0..<100 {
            text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if text.split(separator: "\n").filter({ !$0.hasPrefix("STALL") }).count >= count { break }
            usleep(50_000)
        }
        return text.split(separator: "\n").filter { !$0.hasPrefix("STALL") }.map { line in
            let f = line.split(separator: " ")
            return Line(method: String(f[0]), path: String(f[1]), status: Int(f[2]) ?? 0, sid: String(f[3].dropFirst(4)), csrf: String(f[4].dropFirst(5)))
        }
    }
}
