import ArgumentParser
import Foundation
import HTTP1
import StampedeModel

/// The load flags shared by `bench` and `run`: the CLI adapter of `LoadSpec`. Numbers are parsed
/// unconditionally, so `--duration -5` reaches the validator (and is refused as negative) instead
/// of being mistaken for a flag.
struct LoadOptions: ParsableArguments {
    @Option(help: "Load shape: avalanche (closed loop, as fast as the connections allow) or tsunami (paced; needs --delay-ms or --rate).")
    var mode: LoadMode = .avalanche

    @Option(name: [.customShort("c"), .long], parsing: .unconditional,
            help: "Concurrent connections, 1...100000 (default: 50 for bench; 10 per driver for run, as for a TestConfig).")
    var connections: Int?

    @Option(parsing: .unconditional, help: "Send exactly this many requests, then stop (exclusive with --duration; per driver for run).")
    var requests: Int?

    @Option(parsing: .unconditional, help: "With --order sequence: run exactly this many sessions (passes through the list), each to its end, shared by the connections (and split over drivers for run); instead of --requests/--duration. Avalanche only.")
    var sessions: Int?

    @Option(name: [.customShort("d"), .long], parsing: .unconditional,
            help: "Stop sending after this long: seconds, or with a unit as wrk takes it (500ms, 10s, 2m, 1h; default 10s when --requests is not given).",
            transform: Seconds.parse)
    var duration: Seconds?

    @Option(name: .customLong("delay-ms"), parsing: .unconditional, help: "Tsunami: milliseconds between one connection's consecutive sends.")
    var delayMs: Double?

    @Option(name: .customLong("stage"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("A stage DURATION:TARGET (repeatable, in order; e.g. 10s:500): the target moves linearly from the previous one over DURATION. Tsunami: total requests/s; avalanche: connections per driver. Instead of --duration/--requests.", valueName: "duration:target"),
            transform: StageOption.parse)
    var stages: [StageOption] = []

    @Option(parsing: .unconditional, help: "The target the first stage starts from (default: 0).")
    var start: Double?

    @Option(name: [.customShort("R"), .long], parsing: .unconditional,
            help: "Tsunami: total requests per second, spread over the connections (alternative to --delay-ms; -R as in wrk2).")
    var rate: Double?

    @Option(name: .customLong("timeout-ms"), parsing: .unconditional, help: "Per-request (and connect) timeout in milliseconds.")
    var timeoutMs: Int = LoadSpec.defaultTimeoutMs

    @Option(name: [.customShort("m"), .long], help: "HTTP method (default: GET).")
    var method: String?

    @Option(name: [.customShort("H"), .customLong("header")], help: "Extra request header 'Name: value' (repeatable).")
    var headers: [String] = []

    @Option(help: "Request body: literal text, or @FILE to read it from a file.")
    var body: String?

    @Flag(help: "Skip TLS certificate verification.")
    var insecure = false

    @Option(help: "Verify TLS against this CA bundle (PEM) instead of the system store.")
    var cacert: String?

    @Option(name: .customLong("source-addrs"),
            help: ArgumentHelp("Bind new connections to these local addresses, round-robin: a range 127.0.0.2-127.0.0.9 or a list A,B,C (more connections than one address's ephemeral ports allow).", valueName: "addrs"))
    var sourceAddrs: String?

    @Option(help: ArgumentHelp("Send a mix of requests instead of one URL: a JSON list (see docs/workload.md) or Vegeta's target format ('METHOD URL', header lines, '@bodyfile', a blank line between targets).", valueName: "file"))
    var targets: String?

    @Option(help: ArgumentHelp("CSV file (header line first) whose rows {{row.COLUMN}} reads, one row per request, dealt out across drivers.", valueName: "file.csv"))
    var data: String?

    @Option(help: "Random order of the mix: random (by weight, the default) or sequence (the listed order, per connection).")
    var order: RequestOrder?

    @Option(help: ArgumentHelp("What connections do with the cookies responses set: session (kept and sent back; emptied at each new pass through a sequence, the default), keep (kept for the connection's whole run), off (never sent, as wrk).", valueName: "session|keep|off"))
    var cookies: CookieMode?

    @Option(name: .customLong("think-ms"), help: ArgumentHelp("A pause after each response before the session's next request (avalanche): N ms, or uniform over MIN-MAX; never part of a latency. Sets think_ms for every request of the list (see docs/sessions.md).", valueName: "N|MIN-MAX"))
    var thinkMs: String?

    @Option(name: .customLong("follow-redirects"), help: ArgumentHelp("Follow up to N redirects (301, 302, 303, 307, 308; at most 20) per request, each hop a request of its own counted as 'NAME redirect'; 303, and 301/302 after a POST, become GET. Default 0: a 3xx is a response, as wrk.", valueName: "N"))
    var followRedirects: Int?

    @Option(name: .customLong("session-rate"), help: ArgumentHelp("Tsunami with --order sequence: R sessions (passes through the list) start per second in total, each on a free connection (--connections caps the users at once); a late start is measured from the intended arrival, one that cannot start within --timeout-ms is dropped and counted. 'on' with --stage: the stages' targets are sessions per second.", valueName: "R|on"))
    var sessionRate: String?

    @Option(name: .customLong("capture-bytes"), help: "How much of a response body captures read at most (decoded when gzip).")
    var captureBytes: Int?

    @Option(parsing: .unconditional, help: "Seed of the random mix and of {{rand_int}}/{{uuid}}, to repeat a run (default: drawn, and reported).")
    var seed: UInt64?

    @Option(help: ArgumentHelp("The test's family (a TestConfig's name: checkout-nightly): its runs are listed by GET /history/NAME and judged by compare --history; 1-64 of A-Z a-z 0-9 . _ -.", valueName: "name"))
    var name: String?

    @Option(name: .customLong("threshold"), help: "Pass/fail limit NAME=VALUE (repeatable): p50_ms, p90_ms, p99_ms, p999_ms, max_ms, error_rate, min_rps, unsent_rate (a timed tsunami); with --order sequence also session_p99_ms, session_error_rate; REQUEST:NAME=VALUE limits one name of a list (checkout:p99_ms=200). A failed one exits 3.")
    var thresholds: [String] = []

    /// The flag that sets a setting, as an error names it.
    static func flag(_ setting: LoadSetting) -> String {
        switch setting {
        case .target: return "URL"
        case .delay: return "--delay-ms"
        case .timeout: return "--timeout-ms"
        case .headers: return "--header"
        case .thresholds: return "--threshold"
        case .requestList: return "--targets"
        case .stages: return "--stage"
        case .sourceAddrs: return "--source-addrs"
        case .captureBytes: return "--capture-bytes"
        case .thinkTime: return "--think-ms"
        case .followRedirects: return "--follow-redirects"
        case .sessionRate: return "--session-rate"
        default: return "--\(setting.rawValue)"
        }
    }

    /// Checked as the flags are parsed, for every command that takes them.
    func validate() throws {
        if let name, let problem = HistoryRun.problem(withName: name) { throw ValidationError("--name: \(problem)") }
    }

    /// `-H 'Name: value'` pairs, in order.
    func parsedHeaders() throws -> [(String, String)] {
        try headers.map { header in
            guard let colon = header.firstIndex(of: ":") else {
                throw ValidationError("--header: expected 'Name: value', got '\(header)'")
            }
            return (String(header[..<colon]).trimmingSpaces(), String(header[header.index(after: colon)...]).trimmingSpaces())
        }
    }

    /// Flags that set a load, given: with a test file they are refused (the file sets its
    /// scenarios' loads; flags set only its test-wide fields).
    var loadFlagsGiven: [String] {
        let given: [(String, Bool)] = [
            ("--connections", connections != nil), ("--requests", requests != nil), ("--sessions", sessions != nil), ("--duration", duration != nil),
            ("--delay-ms", delayMs != nil), ("--stage", !stages.isEmpty), ("--start", start != nil), ("--rate", rate != nil),
            ("--method", method != nil), ("--body", body != nil), ("--targets", targets != nil), ("--data", data != nil),
            ("--order", order != nil), ("--cookies", cookies != nil), ("--think-ms", thinkMs != nil),
            ("--follow-redirects", followRedirects != nil), ("--session-rate", sessionRate != nil), ("--capture-bytes", captureBytes != nil),
            ("--timeout-ms", timeoutMs != LoadSpec.defaultTimeoutMs), ("--mode", mode != .avalanche)]
        return given.filter(\.1).map(\.0)
    }

    /// Builds and checks the spec; errors name the flag.
    /// - Parameter defaultConnections: the command's default (`bench`: the total; `run`: per driver).
    /// - Parameter searching: `stampede search`, which sets the rate itself (`--session-rate on` needs no stages there).
    func spec(url: String?, threads: Int, defaultConnections: Int, searching: Bool = false) throws -> (LoadSpec, [Threshold]) {
        let file = try targets.map { try TargetsFile(path: $0) }
        func checked<T>(_ body: () throws(ConfigError) -> T) throws -> T {
            do { return try body() } catch {
                if error.setting == .requestList, let file { throw ValidationError(file.describe(error)) }
                // wrk2 paces with -R alone; here the mode is said, and the message says how.
                let hint = (error.setting == .rate || error.setting == .delay) && mode == .avalanche ? " (add --mode tsunami)" : ""
                throw ValidationError("\(Self.flag(error.setting)): \(error.reason(naming: Self.flag))\(hint)")
            }
        }
        var spec: LoadSpec
        switch (url, file) {
        case (.some, .some): throw ValidationError("give a URL or --targets FILE, not both")
        case (nil, nil): throw ValidationError("give the URL to load (or --targets FILE for a mix of requests)")
        case (.some(let url), nil):
            spec = LoadSpec(target: try checked { () throws(ConfigError) in try LoadSpec.target(url) })
            spec.method = (method ?? "GET").uppercased()
        case (nil, .some(let file)):
            if method != nil { throw ValidationError("--method: with --targets, the file gives each request's method") }
            if body != nil { throw ValidationError("--body: with --targets, the file gives each request's body") }
            spec = try checked { () throws(ConfigError) in try LoadSpec(requests: file.requests) }
        }
        spec.order = order ?? .random
        spec.cookies = cookies ?? .session
        if let captureBytes { spec.captureBytes = captureBytes }
        if let followRedirects { spec.followRedirects = followRedirects }
        if let thinkMs {
            let think: ThinkTime
            do { think = try ThinkTime(parsing: thinkMs) } catch { throw ValidationError("--think-ms: \(error.description)") }
            for k in spec.requests.indices { spec.requests[k].thinkTime = think }
        }
        spec.seed = seed
        if let sourceAddrs {
            do { spec.sourceAddresses = try SourceAddresses.parse(sourceAddrs) } catch { throw ValidationError("--source-addrs: \(error.reason)") }
        }
        if let data {
            guard FileManager.default.fileExists(atPath: data) else { throw ValidationError("--data: no such file '\(data)'") }
            guard let bytes = FileManager.default.contents(atPath: data) else { throw ValidationError("--data: cannot read '\(data)'") }
            guard let text = String(data: bytes, encoding: .utf8) else { throw ValidationError("--data: '\(data)' is not UTF-8 text") }
            do { spec.data = try CSVData(parsing: text) } catch { throw ValidationError("--data \(data): \(error.reason)") }
        }
        spec.threads = threads
        spec.timeoutMs = timeoutMs
        spec.insecure = insecure
        spec.caFile = cacert
        var choices = LoadChoices()
        choices.mode = mode
        choices.connections = connections
        choices.defaultConnections = defaultConnections
        choices.requests = requests
        choices.sessions = sessions
        choices.durationS = duration?.value
        choices.defaultDurationS = LoadSpec.defaultDurationS
        choices.stages = stages.isEmpty ? nil : stages.map { Stage(durationS: $0.duration, target: $0.target) }
        choices.start = start
        choices.delayMs = delayMs
        choices.rate = rate
        choices.rateComesLater = searching
        switch sessionRate {
        case nil: break
        case "on"?: choices.sessionRate = .fromRates
        case let text?:
            guard let r = Double(text) else { throw ValidationError("--session-rate: expected sessions per second (a number) or 'on', got '\(text)'") }
            choices.sessionRate = .perSecond(r)
        }
        try checked { () throws(ConfigError) in try spec.apply(choices) }
        let given = try parsedHeaders()
        if spec.listForm {
            // As Vegeta's -header: every request that does not set the header gets it.
            for k in spec.requests.indices {
                for (name, value) in given where !spec.requests[k].headers.contains(where: { $0.0.lowercased() == name.lowercased() }) {
                    spec.requests[k].headers.append((name, value))
                }
            }
        } else {
            spec.headers += given
        }
        if let body {
            if body.hasPrefix("@") {
                let path = String(body.dropFirst())
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ValidationError("--body: cannot read file '\(path)'")
                }
                spec.body = [UInt8](data)
            } else {
                spec.body = Array(body.utf8)
            }
        }
        let built = spec
        let compiled = try checked { () throws(ConfigError) in try built.validate() }
        let parsed = try thresholds.map { text in try checked { () throws(ConfigError) in try Threshold(parsing: text) } }
        try checked { () throws(ConfigError) in try Threshold.check(parsed, for: built) }
        if let data, built.data != nil, !compiled.contains(where: \.usesRows) {
            printError("warning: --data \(data): no request uses {{row.COLUMN}}, so the data is not used")
        }
        return (spec, parsed)
    }
}

extension LoadMode: ExpressibleByArgument {}

/// `--stage DURATION:TARGET`: `10s:500`, `1m:2000`, `30:0`. A negative part parses, so the
/// validator can say what is wrong with it.
struct StageOption: ExpressibleByArgument {
    let duration: Double
    let target: Double

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), let d = Seconds(argument: String(argument[..<colon])),
              let t = Double(argument[argument.index(after: colon)...]), t.isFinite else { return nil }
        duration = d.value
        target = t
    }

    static func parse(_ text: String) throws -> StageOption {
        guard let stage = StageOption(argument: text) else {
            throw ValidationError("'\(text)' is not DURATION:TARGET: e.g. 10s:500 or 1m:2000 (a duration as for --duration, then a number)")
        }
        return stage
    }
}
extension RequestOrder: ExpressibleByArgument {}
extension CookieMode: ExpressibleByArgument {}

/// A duration flag: plain seconds (`30`, `0.5`) or with a unit as wrk takes it (`500ms`, `10s`,
/// `2m`, `1h`). A negative value parses, so the validator can say what is wrong with it.
struct Seconds: ExpressibleByArgument, Equatable {
    let value: Double

    init?(argument: String) {
        guard let value = seconds(fromDuration: argument) else { return nil }
        self.value = value
    }
}

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

extension Seconds {
    static func parse(_ text: String) throws -> Seconds {
        guard let seconds = Seconds(argument: text) else {
            throw ValidationError("'\(text)' is not a duration: give seconds (30, 0.5) or a number with ms, s, m or h (500ms, 10s, 2m, 1h)")
        }
        return seconds
    }
}
