import Foundation
import StampedeModel
import StampedeWire
import Testing
import TestSupport

/// The same bad settings through the three entry points (CLI flags, REST TestConfig, bus
/// TestSpec) are refused by the one validator, each naming the setting in its own vocabulary.
@Suite struct OneValidatorTests {
    struct Case: CustomStringConvertible, Sendable {
        let setting: LoadSetting
        let cli: [String]
        /// TestConfig fields added to `{"target": ..., "duration_s": 5}` (nil: not a REST setting).
        let rest: String?
        /// Applied to a valid bus spec (nil: not a bus setting).
        let bus: (@Sendable (inout TestSpec) -> Void)?
        var description: String { "\(setting.rawValue) \(cli.joined(separator: " "))" }
    }

    static let url = "http://127.0.0.1:1/"

    static let cases: [Case] = [
        Case(setting: .connections, cli: ["--connections", "0"], rest: #""connections": 0"#, bus: { $0.connections = 0 }),
        Case(setting: .connections, cli: ["--connections", "100001"], rest: #""connections": 100001"#, bus: { $0.connections = 100_001 }),
        Case(setting: .requests, cli: ["--requests", "0"], rest: nil, bus: { $0.duration_s = nil; $0.requests = 0 }),
        Case(setting: .duration, cli: ["--duration", "-5"], rest: nil, bus: { $0.duration_s = -5 }),
        Case(setting: .duration, cli: ["--duration", "86401"], rest: nil, bus: { $0.duration_s = 86_401 }),
        Case(setting: .timeout, cli: ["--timeout-ms", "0"], rest: #""timeout_ms": 0"#, bus: { $0.timeout_ms = 0 }),
        Case(setting: .rate, cli: ["--rate", "10"], rest: #""rate": 10"#, bus: { $0.rate = 10 }),
        Case(setting: .delay, cli: ["--delay-ms", "5"], rest: #""test_message_delay": 5"#, bus: { $0.delay_ms = 5 }),
        Case(setting: .delay, cli: ["--mode", "tsunami"], rest: #""test_type": "TSUNAMI""#, bus: { $0.mode = .tsunami }),
        Case(setting: .delay, cli: ["--mode", "tsunami", "--delay-ms", "3600001"],
             rest: #""test_type": "TSUNAMI", "test_message_delay": 3600001"#, bus: { $0.mode = .tsunami; $0.delay_ms = 3_600_001 }),
        Case(setting: .rate, cli: ["--mode", "tsunami", "--rate", "-1"], rest: #""test_type": "TSUNAMI", "rate": -1"#,
             bus: { $0.mode = .tsunami; $0.rate = -1 }),
        Case(setting: .method, cli: ["--method", "GE T"], rest: #""method": "GE T""#, bus: { $0.method = "GE T" }),
        Case(setting: .headers, cli: ["--header", "Bad Name: x"], rest: #""headers": {"Bad Name": "x"}"#, bus: { $0.headers = ["Bad Name": "x"] }),
        Case(setting: .headers, cli: ["--header", "X-Evil: a\rb"], rest: #""headers": {"X-Evil": "a\rb"}"#, bus: { $0.headers = ["X-Evil": "a\rb"] }),
        Case(setting: .threads, cli: ["--threads", "0"], rest: nil, bus: { $0.threads = 0 }),
        Case(setting: .threads, cli: ["--threads", "257"], rest: nil, bus: { $0.threads = 257 }),
        Case(setting: .thresholds, cli: ["--threshold", "p98_ms=3"], rest: #""thresholds": {"p98_ms": 3}"#, bus: nil),
        Case(setting: .thresholds, cli: ["--threshold", "error_rate=2"], rest: #""thresholds": {"error_rate": 2}"#, bus: nil),
    ]

    static let cliFlag: [LoadSetting: String] = [
        .connections: "--connections", .requests: "--requests", .duration: "--duration", .timeout: "--timeout-ms",
        .rate: "--rate", .delay: "--delay-ms", .method: "--method", .headers: "--header", .threads: "--threads",
        .thresholds: "--threshold", .target: "URL", .mode: "--mode"]
    static let restField: [LoadSetting: String] = [
        .connections: "connections", .requests: "message_count_per_driver", .duration: "duration_s", .timeout: "timeout_ms",
        .rate: "rate", .delay: "test_message_delay", .method: "method", .headers: "headers", .thresholds: "thresholds",
        .target: "target", .mode: "test_type"]
    static let busField: [LoadSetting: String] = [
        .connections: "connections", .requests: "requests", .duration: "duration_s", .timeout: "timeout_ms", .rate: "rate",
        .delay: "delay_ms", .method: "method", .headers: "headers", .threads: "threads", .target: "target", .mode: "mode"]

    @Test(arguments: cases)
    func theSameBadSettingIsNamedOnEveryPath(_ c: Case) throws {
        // CLI: the real binary, for both commands that take load flags; exit 2 naming the flag.
        for command in ["bench", "run"] {
            let result = try runCommand(stampedeBinary, [command, Self.url] + c.cli, timeout: 30)
            #expect(result.status == 2, "\(command) \(c): \(result.stderr)")
            #expect(result.stderr.contains(Self.cliFlag[c.setting]!), "\(command) \(c): \(result.stderr)")
        }
        // REST: the TestConfig adapter names the JSON field.
        if let rest = c.rest {
            let body = #"{"target": "\#(Self.url)", "duration_s": 5, "#  + rest + "}"
            #expect(throws: FieldError.self, "\(c)") { _ = try TestConfig(json: Array(body.utf8), generatedID: { "t" }) }
            do { _ = try TestConfig(json: Array(body.utf8), generatedID: { "t" }) } catch {
                #expect(error.field == Self.restField[c.setting], "\(c): \(error)")
                #expect(error.field == TestConfig.field(c.setting))
            }
        }
        // REST, count-based: the settings only a count or a duration carries.
        if c.setting == .requests || c.setting == .duration {
            let value = c.cli[1]
            let field = Self.restField[c.setting]!
            let body = #"{"target": "\#(Self.url)", "\#(field)": \#(value)}"#
            do { _ = try TestConfig(json: Array(body.utf8), generatedID: { "t" }); Issue.record("\(c): accepted") } catch {
                #expect(error.field == field, "\(c): \(error)")
            }
        }
        // Bus: the driver's adapter refuses the same value with the same setting.
        if let mutate = c.bus {
            var spec = TestSpec(target: Self.url, mode: .avalanche, connections: 10, requests: nil, duration_s: 5)
            mutate(&spec)
            do { _ = try spec.loadSpec(defaultThreads: 1); Issue.record("\(c): bus accepted it") } catch {
                #expect(error.setting == c.setting, "\(c): \(error)")
                #expect(TestSpec.field(error.setting) == Self.busField[c.setting])
            }
        }
    }

    @Test func aBadTargetIsNamedOnEveryPath() throws {
        let cli = try runCommand(stampedeBinary, ["bench", "ftp://127.0.0.1/"], timeout: 30)
        #expect(cli.status == 2 && cli.stderr.contains("URL"), "\(cli.stderr)")
        do { _ = try TestConfig(json: Array(#"{"target": "ftp://x/", "duration_s": 5}"#.utf8), generatedID: { "t" }) } catch {
            #expect(error.field == "target")
        }
        let spec = TestSpec(target: "ftp://x/", mode: .avalanche, connections: 1, requests: 1, duration_s: nil)
        do { _ = try spec.loadSpec(defaultThreads: 1) } catch { #expect(error.setting == .target) }
    }

    /// Defaults: `stampede run` posts the TestConfig its flags describe (`--dry-run` prints it);
    /// a REST body with only the required fields, and its bus form, describe the same load.
    @Test func defaultsAreTheSameOnEveryPath() throws {
        let dry = try runCommand(stampedeBinary, ["run", Self.url, "--duration", "5", "--dry-run"], timeout: 30)
        #expect(dry.status == 0, "\(dry.stderr)")
        let fromCLI = try TestConfig(json: Array(dry.stdout.utf8), generatedID: { "t" })
        let fromREST = try TestConfig(json: Array(#"{"target": "\#(Self.url)", "duration_s": 5}"#.utf8), generatedID: { "t" })
        let fromBus = try fromREST.spec(driverCount: 1).loadSpec(defaultThreads: 1)
        for load in [fromCLI.load, fromBus] {
            #expect(load.connections == fromREST.load.connections && load.connections == LoadSpec.defaultConnections)
            #expect(load.timeoutMs == fromREST.load.timeoutMs && load.timeoutMs == LoadSpec.defaultTimeoutMs)
            #expect(load.mode == fromREST.load.mode && load.method == fromREST.load.method && load.pacing == fromREST.load.pacing)
            #expect(load.stop == fromREST.load.stop && load.threads == 1)
        }
        // bench is one process: its documented default is the total of 50 connections.
        let bench = try runCommand(stampedeBinary, ["bench", Self.url, "--dry-run"], timeout: 30)
        let benchConfig = try TestConfig(json: Array(bench.stdout.utf8), generatedID: { "t" })
        #expect(benchConfig.load.connections == LoadSpec.benchConnections)
        #expect(benchConfig.load.stop == .duration(LoadSpec.defaultDurationS))
        // wrk2's habit, -R without --mode, is refused with the flag to add.
        let unpaced = try runCommand(stampedeBinary, ["bench", Self.url, "-R", "500", "--dry-run"], timeout: 30)
        #expect(unpaced.status == 2 && unpaced.stderr.contains("--rate: only applies to the tsunami mode (add --mode tsunami)"), "\(unpaced.stderr)")
    }

    /// wrk's way of writing its flags, values attached: `-t2 -c7 -d3s -H'X-A: b' -mPOST -R100`.
    @Test func wrkStyleAttachedValuesAreTheSameFlags() throws {
        let dry = try runCommand(stampedeBinary, ["bench", Self.url, "-t2", "-c7", "-d3s", "-HX-A: b", "-mPOST", "--mode", "tsunami",
                                                  "-R100", "--dry-run"], timeout: 30)
        #expect(dry.status == 0, "\(dry.stderr)")
        let load = try TestConfig(json: Array(dry.stdout.utf8), generatedID: { "t" }).load
        #expect(load.connections == 7 && load.stop == .duration(3) && load.method == "POST" && load.pacing == .rate(100), "\(dry.stdout)")
        #expect(load.headers.map { "\($0.0): \($0.1)" } == ["X-A: b"], "\(dry.stdout)")
        // An attached value goes through the same checks as a separate one.
        let bad = try runCommand(stampedeBinary, ["bench", Self.url, "-c0"], timeout: 30)
        #expect(bad.status == 2 && bad.stderr.contains("--connections: must be in 1...100000, got 0"), "\(bad.stderr)")
    }
}
