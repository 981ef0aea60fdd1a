import ArgumentParser
import Foundation
import HTTP1
import LoadGenerator

/// The load flags shared by `bench` and `run` (SPEC "Load flags").
struct LoadOptions: ParsableArguments {
    @Option(help: "Load shape: avalanche (closed loop, as fast as the connections allow) or tsunami (paced; needs --delay-ms or --rate).")
    var mode: LoadMode = .avalanche

    @Option(name: .long, help: "Concurrent connections (1...100000).")
    var connections: Int = 50

    @Option(help: "Send exactly this many requests, then stop (exclusive with --duration).")
    var requests: Int?

    @Option(help: "Stop sending after this many seconds (default 10 when --requests is not given).")
    var duration: Double?

    @Option(name: .customLong("delay-ms"), help: "Tsunami: milliseconds between one connection's consecutive sends.")
    var delayMs: Double?

    @Option(help: "Tsunami: total requests per second, spread over the connections (alternative to --delay-ms).")
    var rate: Double?

    @Option(name: .customLong("timeout-ms"), help: "Per-request (and connect) timeout in milliseconds.")
    var timeoutMs: Int = 5_000

    @Option(help: "HTTP method.")
    var method: String = "GET"

    @Option(name: .customLong("header"), help: "Extra request header 'Name: value' (repeatable).")
    var headers: [String] = []

    @Option(help: "Request body: literal text, or @FILE to read it from a file.")
    var body: String?

    @Flag(help: "Skip TLS certificate verification.")
    var insecure = false

    @Option(help: "Verify TLS against this CA bundle (PEM) instead of the system store.")
    var cacert: String?

    @Option(name: .customLong("threshold"), help: "Pass/fail limit NAME=VALUE (repeatable): p50_ms, p90_ms, p99_ms, p999_ms, max_ms, error_rate, min_rps. A failed one exits 3.")
    var thresholds: [String] = []

    /// Builds and checks the configuration; errors name the flag.
    func config(url: String, threads: Int) throws -> (LoadConfig, [Threshold]) {
        let target: TargetURL
        do { target = try TargetURL(parsing: url) } catch { throw ValidationError("URL: \(error)") }
        var config = LoadConfig(target: target)
        config.mode = mode
        config.connections = connections
        config.threads = threads
        config.timeoutMs = timeoutMs
        config.method = method.uppercased()
        config.insecure = insecure
        config.caFile = cacert
        switch (requests, duration) {
        case (.some, .some): throw ValidationError("--requests and --duration are exclusive: give one")
        case (.some(let n), nil): config.stop = .requests(n)
        case (nil, .some(let s)): config.stop = .duration(s)
        case (nil, nil): config.stop = .duration(10)
        }
        switch (delayMs, rate) {
        case (.some, .some): throw ValidationError("--delay-ms and --rate are exclusive: give one")
        case (.some(let d), nil): config.pacing = .delayMs(d)
        case (nil, .some(let r)): config.pacing = .rate(r)
        case (nil, nil): config.pacing = nil
        }
        for header in headers {
            guard let colon = header.firstIndex(of: ":") else {
                throw ValidationError("--header: expected 'Name: value', got '\(header)'")
            }
            config.headers.append((String(header[..<colon]).trimmingSpaces(),
                                   String(header[header.index(after: colon)...]).trimmingSpaces()))
        }
        if let body {
            if body.hasPrefix("@") {
                let path = String(body.dropFirst())
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ValidationError("--body: cannot read file '\(path)'")
                }
                config.body = [UInt8](data)
            } else {
                config.body = Array(body.utf8)
            }
        }
        do { try config.validate() } catch { throw ValidationError("--\(error.field): \(error.reason)") }
        do {
            _ = try HTTPRequestEncoder.encode(method: config.method, url: target, headers: config.headers)
        } catch {
            throw ValidationError(error.header == config.method ? "--method: \(error.reason)" : "--header: \(error)")
        }
        var parsed: [Threshold] = []
        for t in thresholds {
            do { parsed.append(try Threshold(parsing: t)) } catch { throw ValidationError("--threshold: \(error.reason)") }
        }
        return (config, parsed)
    }
}

extension LoadMode: ExpressibleByArgument {}

/// Parses HOST:PORT (IPv6 as [::1]:8080).
func parseListen(_ text: String, flag: String = "--listen") throws -> (host: String, port: Int) {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
          (0...65535).contains(port) else {
        throw ValidationError("\(flag): expected HOST:PORT, got '\(text)'")
    }
    var host = String(text[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard !host.isEmpty else { throw ValidationError("\(flag): missing host in '\(text)'") }
    return (host, port)
}
