import ArgumentParser
import Foundation
import HTTP1
import StampedeModel
import StampedeWire

/// A `--targets` file: the JSON list `POST /tests` takes in `requests`, or Vegeta's HTTP target
/// format (`METHOD URL`, header lines, an optional `@bodyfile`, a blank line between targets).
struct TargetsFile {
    let path: String
    let requests: [RequestSpec]
    /// The line each request starts on (Vegeta format), for errors; nil for JSON.
    let lines: [Int]?

    /// - Throws: `ValidationError` naming the flag, the file and the line.
    init(path: String) throws {
        self.path = path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("--targets: cannot read '\(path)'")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw ValidationError("--targets \(path): not UTF-8 text") }
        if text.drop(while: { $0.isWhitespace }).hasPrefix("[") {
            guard let value = JSONValue.parse(Array(data)) else { throw ValidationError("--targets \(path): \(JSONValue.syntaxProblem(Array(data)))") }
            do { requests = try RequestList.parse(value, field: "requests") } catch {
                throw ValidationError("--targets \(path): \(error.field): \(error.reason)")
            }
            lines = nil
        } else {
            (requests, lines) = try Self.parseVegeta(text, path: path)
        }
    }

    /// A config error about entry k, located in the file.
    func describe(_ error: ConfigError) -> String {
        guard let entry = error.entry else { return "--targets \(path): \(error.reason)" }
        let place = lines.map { "line \($0[entry])" } ?? "requests[\(entry)]"
        return "--targets \(path) \(place): \(error.part.map { "\($0): " } ?? "")\(error.reason)"
    }

    private static func parseVegeta(_ text: String, path: String) throws -> ([RequestSpec], [Int]) {
        var requests: [RequestSpec] = []
        var lines: [Int] = []
        var current: RequestSpec?
        func fail(_ n: Int, _ reason: String) -> ValidationError { ValidationError("--targets \(path) line \(n): \(reason)") }
        for (k, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let n = k + 1
            let line = raw.trimmingCharacters(in: .whitespaces.union(.init(charactersIn: "\r")))
            if line.hasPrefix("#") { continue }
            if line.isEmpty {
                if let r = current { requests.append(r); current = nil }
                continue
            }
            if let target = Self.targetLine(line) {
                if let r = current { requests.append(r) }
                var r = RequestSpec(url: target.url)
                r.method = target.method
                current = r
                lines.append(n)
                continue
            }
            guard current != nil else { throw fail(n, "expected 'METHOD URL' (e.g. GET http://127.0.0.1:8080/), got '\(line.prefix(60))'") }
            if line.hasPrefix("@") {
                let file = String(line.dropFirst())
                guard !file.isEmpty, let body = FileManager.default.contents(atPath: file) else {
                    throw fail(n, "body file '\(file)' cannot be read")
                }
                guard current!.body.isEmpty else { throw fail(n, "a second body for one target") }
                current!.body = [UInt8](body)
            } else if let colon = line.firstIndex(of: ":"), colon != line.startIndex {
                current!.headers.append((String(line[..<colon]).trimmingSpaces(), String(line[line.index(after: colon)...]).trimmingSpaces()))
            } else {
                throw fail(n, "expected a header 'Name: value', '@bodyfile' or a blank line, got '\(line.prefix(60))'")
            }
        }
        if let r = current { requests.append(r) }
        guard !requests.isEmpty else { throw ValidationError("--targets \(path): no targets (expected 'METHOD URL' lines)") }
        return (requests, lines)
    }

    /// `GET http://host/path`: a method token, spaces, an http(s) URL.
    private static func targetLine(_ line: String) -> (method: String, url: String)? {
        let parts = line.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].allSatisfy({ $0.isLetter && $0.isUppercase }) else { return nil }
        let url = parts[1].trimmingCharacters(in: .whitespaces)
        guard url.lowercased().hasPrefix("http://") || url.lowercased().hasPrefix("https://") else { return nil }
        return (String(parts[0]), url)
    }
}
