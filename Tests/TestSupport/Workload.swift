import Foundation

/// nginx with a few paths (`/a`, `/b` answer 200 with their own bodies, `/missing` and `/gone`
/// 404, anything else 200) and an access log of "METHOD URI STATUS CONTENT_LENGTH X_TEST".
public func workloadNginx() throws -> Nginx {
    try Nginx(locations: """
        location = /a { return 200 "alpha\\n"; }
        location = /b { return 200 "beta\\n"; }
        location = /missing { return 404; }
        location = /gone { return 404; }
        """, logFormat: "$request_method $request_uri $status $content_length $http_x_test")
}

/// A file in a fresh temporary directory.
public func temporaryFile(_ name: String, _ text: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Counts of one space-separated field of access log lines (1: method, 2: URI, 3: status, ...).
public func logCounts(_ lines: [String], field: Int, transform: (String) -> String = { $0 }) -> [String: Int] {
    var counts: [String: Int] = [:]
    for line in lines {
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        if parts.count > field - 1 { counts[transform(String(parts[field - 1])), default: 0] += 1 }
    }
    return counts
}

/// A JSON object from text (a report, an API answer).
public func jsonObject(_ text: String) throws -> [String: Any] {
    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
        throw ProcessFailure(description: "not a JSON object: \(text.prefix(300))")
    }
    return object
}
