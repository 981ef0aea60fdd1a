import ArgumentParser
import Driver
import Foundation
import Histogram
import LoadGenerator
import Messaging
import Orchestrator
import StampedeModel
import StampedeWire
import Synchronization

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a test through the whole system in one process: an orchestrator and N drivers over an in-memory bus (no Kafka).",
        discussion: """
            The same code paths as a distributed run: each driver runs its share (--requests and \
            --connections are per driver; --rate is the total), sends per-second histograms, and \
            the orchestrator merges them. With --listen the REST API, /ws and the dashboard are \
            served while the test runs. Progress goes to stderr (one line rewritten on a terminal, a \
            line per second otherwise); the summary, or --json, to stdout.

            Examples:
              stampede run http://127.0.0.1:8080/ --drivers 2 --duration 10
              stampede run http://127.0.0.1:8080/ --mode tsunami -R 1000 -d 30s \\
                  --listen 127.0.0.1:8090
              stampede run http://127.0.0.1:8080/ -c 20 --requests 5000 --dry-run
              stampede run --targets targets.txt --drivers 2 --order sequence -d 1m
              stampede run shop.json --drivers 4 --name checkout-nightly
            """)

    @Argument(help: "The http:// or https:// URL to load (or give --targets), or a test file: a TestConfig JSON document, scenarios and all (docs/scenarios.md).")
    var url: String?

    @OptionGroup var load: LoadOptions

    @Option(help: "Drivers to run (each with its own reactor threads).")
    var drivers: Int = 2

    @Option(name: [.customShort("t"), .long], help: "Reactor threads per driver.")
    var threads: Int = 1

    @Option(help: "HOST:PORT to serve the API, /ws and the dashboard on while the test runs.")
    var listen: String?

    @Option(name: .customLong("reports-dir"), help: "Where the report files are written.")
    var reportsDir: String = "./reports"

    @Flag(help: "Print the report JSON instead of the summary.")
    var json = false

    @Option(help: "Write per-second merged latency histograms to FILE (HdrHistogram log 1.3).")
    var hlog: String?

    @Option(help: ArgumentHelp("Write the thresholds as JUnit XML (one test case each, failures with the measured value) for CI.",
                               valueName: "file"))
    var junit: String?

    @Flag(name: .customLong("dry-run"), help: "Check the flags and print the TestConfig this run would post (JSON for POST /tests), then exit.")
    var dryRun = false

    @Option(name: .customLong("control-file"), help: ArgumentHelp("Steer the test from FILE's lines, '[AT_S] COMMAND [VALUE] [SCENARIO]': rate R, connections N, session_rate R, pause, resume, stop, + or - (10 %); timed lines at AT_S seconds from the start, others as read (a FIFO works).", valueName: "file"))
    var controlFile: String?

    func validate() throws {
        guard (1...64).contains(drivers) else { throw ValidationError("--drivers: must be in 1...64, got \(drivers)") }
        if let controlFile {
            // A regular file is checked whole before the test starts (a FIFO line by line as it comes).
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: controlFile, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw ValidationError("--control-file: cannot read '\(controlFile)'")
            }
            let attributes = try? FileManager.default.attributesOfItem(atPath: controlFile)
            if attributes?[.type] as? FileAttributeType == .typeRegular {
                guard let text = try? String(contentsOfFile: controlFile, encoding: .utf8) else { throw ValidationError("--control-file: cannot read '\(controlFile)'") }
                var last = 0.0
                for (k, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    do throws(ValidationError) {
                        guard let command = try RunControl.parse(String(line)) else { continue }
                        if let at = command.atS {
                            guard at >= last else { throw ValidationError("'\(line)': timed lines must come in time order") }
                            last = at
                        }
                    } catch { throw ValidationError("--control-file \(controlFile) line \(k + 1): \(error.message)") }
                }
            }
        }
    }

    @OptionGroup var logging: LogOptions

    func run() throws {
        // The summary and progress lines are the output; log lines only for what went wrong.
        logging.bootstrap(defaultLevel: .warning)
        let (host, port) = try listen.map { try parseListen($0) } ?? ("127.0.0.1", 0)
        // Unique within a reports dir: two runs in the same second must not collide with each other's saved state.
        let generatedID = "run-\(Int(Date().timeIntervalSince1970 * 1000))-\(String(UInt16.random(in: 0...UInt16.max), radix: 16))"
        let testConfig: TestConfig
        if TestFile.isTestFile(url), let path = url {
            testConfig = try TestFile(path: path, options: load, testID: generatedID).config
            if FileManager.default.fileExists(atPath: "\(reportsDir)/\(testConfig.testID)") {
                throw ValidationError("\(path): test_id '\(testConfig.testID)' already has a report in \(reportsDir)/\(testConfig.testID): change test_id, leave it out (one is made), or give another --reports-dir")
            }
            if let wanted = testConfig.drivers, wanted > drivers {
                throw ValidationError("--drivers: \(path) asks for \(wanted) drivers; give --drivers \(wanted) or more")
            }
        } else {
            let (config, thresholds) = try load.spec(url: url, threads: threads, defaultConnections: LoadSpec.defaultConnections)
            do { testConfig = try TestConfig(testID: generatedID, name: load.name, load: config, drivers: drivers, thresholds: thresholds) } catch {
                throw ValidationError(error.description)
            }
        }
        let config = testConfig.load
        let testID = testConfig.testID
        if dryRun { print(testConfig.original.text); return }
        try checkJUnitPath(junit)

        var options = OrchestratorOptions()
        options.host = host
        options.port = port
        options.reportsDirectory = reportsDir
        options.startDelayMs = 200
        let bus = InMemoryBus(topics: .stampede())
        let orchestrator: Orchestrator
        do { orchestrator = try Orchestrator(options: options, bus: bus) } catch {
            printError("stampede run: \(error)")
            throw ExitCode(1)
        }
        let agents = (1...drivers).map { i in
            DriverAgent(bus: bus, id: "local-\(i)", host: ProcessInfo.processInfo.hostName, threads: threads, version: stampedeVersion)
        }
        let progress = ProgressLine(enabled: isatty(STDERR_FILENO) == 1, plain: isatty(STDERR_FILENO) != 1, config: config, scenarios: testConfig.scenarios)
        var hlogFile = try hlog.map { try HLogFile(path: $0, startTime: Date()) }
        let finished = DispatchSemaphore(value: 0)
        let outcome = Mutex<LoadReport?>(nil)
        orchestrator.onInterval = { announced in
            guard announced.testID == testID else { return }
            // The orchestrator judged the thresholds: the progress line names the first failing.
            progress.update(announced.interval, failing: announced.thresholds.first { $0.state == "failing" })
            hlogFile?.append(announced.interval)
        }
        orchestrator.onFinished = { id, report in
            guard id == testID else { return }
            outcome.withLock { $0 = report }
            finished.signal()
        }
        let threadsDone = DispatchGroup()
        func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
            threadsDone.enter()
            let t = Thread { body(); threadsDone.leave() }
            t.name = name
            t.start()
        }
        let box = UncheckedSendable(orchestrator)
        spawn("stampede-orchestrator") { do { try box.value.run() } catch { printError("stampede run: \(error)") } }
        for agent in agents {
            spawn("stampede-driver") { do { try agent.run() } catch { printError("stampede run: driver: \(error)") } }
        }
        if listen != nil, !json { print("Dashboard and API: http://\(host):\(orchestrator.port)/") }
        let signals = SignalHandlers { orchestrator.requestShutdown() }
        defer { signals.cancel() }

        // Once every driver has registered, create and trigger the test on the orchestrator's thread.
        let step = Handoff()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            orchestrator.perform { step.count = orchestrator.idleDriverCount; step.done.signal() }
            step.done.wait()
            if step.count >= drivers { break }
            usleep(10_000)
        }
        orchestrator.perform {
            do throws(TestBookError) {
                _ = try orchestrator.createTest(testConfig)
                let triggered = try orchestrator.triggerTest(id: testID)
                step.startAtMs = triggered.startAtMs
            } catch {
                step.error = error
            }
            step.done.signal()
        }
        step.done.wait()
        if let error = step.error {
            printError("stampede run: \(error)")
            orchestrator.requestShutdown()
            for a in agents { a.requestStop() }
            threadsDone.wait()
            if case .invalid = error { throw ExitCode(2) }
            throw ExitCode(1)
        }
        let control = RunControl(orchestrator: orchestrator, testID: testID, config: testConfig)
        progress.note = { control.note.withLock { $0 } }
        defer { control.finished.store(true, ordering: .relaxed) }
        if !json && isatty(STDIN_FILENO) == 1 {
            FileHandle.standardError.write(Data("keys: + / - rate or users by 10 %, p pause, r resume, q stop\n".utf8))
            Thread { control.readKeys() }.start()
        }
        if let controlFile {
            let startAtMs = step.startAtMs
            // Opened on its own thread: opening a FIFO waits for its writer.
            Thread {
                guard let handle = FileHandle(forReadingAtPath: controlFile) else {
                    printError("stampede run: --control-file: cannot read '\(controlFile)'")
                    return
                }
                control.follow(file: handle, path: controlFile, startAtMs: startAtMs)
            }.start()
        }
        if !json {
            if testConfig.hasScenarios {
                print("Running \(testConfig.scenarios.count) scenario(s) on \(drivers) driver(s), \(threads) thread(s) each (connections per driver):")
                for s in testConfig.scenarios { print("  " + describe(s)) }
            } else {
                print("Running \(describe(config)) @ \(where_(config))\n  \(drivers) driver(s) × \(config.connections) connection(s), \(threads) thread(s) each")
            }
        }
        finished.wait()
        progress.finish()
        orchestrator.requestShutdown()
        for a in agents { a.requestStop() }
        threadsDone.wait()
        try hlogFile?.close()

        guard let report = outcome.withLock({ $0 }) else {
            printError("stampede run: the test produced no report")
            throw ExitCode(1)
        }
        try writeJUnit(report, to: junit)
        if json { print(report.json()) } else {
            printSummary(report, tls: nil)
            print("Report: \(reportsDir)/\(testID)/report.json")
        }
        if report.responses == 0 { throw ExitCode(1) }
        if !report.thresholds.passed || report.aborted != nil { throw ExitCode(3) }
    }
}

/// Answers from the orchestrator's thread: written there before `done` is signalled, read after
/// waiting on it (the semaphore orders the accesses).
final class Handoff: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var count = 0
    var error: TestBookError?
    var startAtMs: Int64 = 0
}

/// Hands a non-Sendable reference to another thread whose use of it is safe by construction.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
