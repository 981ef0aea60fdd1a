import ArgumentParser
import Foundation
import StampedeModel
import StampedeWire

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a test file with the one validator and print what would run, without sending a request.",
        discussion: """
            The file is the TestConfig document POST /tests takes (docs/rest-api.md, \
            docs/scenarios.md). For each scenario: its model, its load per driver for --drivers \
            drivers, when it starts and ends. A bad field is named by its path \
            (scenarios.buy.requests[2].url) and exits 2.

            Examples:
              stampede validate shop.json
              stampede validate shop.json --drivers 4
            """)

    @Argument(help: "The test file (a TestConfig JSON document).")
    var file: String

    @Option(help: "Drivers the test would be split over (rates and session rates are totals; connections and counts are per driver).")
    var drivers: Int = 1

    @OptionGroup var load: LoadOptions

    func run() throws {
        guard (1...10_000).contains(drivers) else { throw ValidationError("--drivers: must be in 1...10000, got \(drivers)") }
        guard FileManager.default.fileExists(atPath: file) else { throw ValidationError("no such test file '\(file)'") }
        let config = try TestFile(path: file, options: load, testID: "validate").config
        let count = config.drivers ?? drivers
        print("\(file): valid. Test \(config.testID), \(config.scenarios.count) scenario(s) over \(count) driver(s):")
        for s in config.scenarios {
            let spec = TestConfig.share(of: s.load, driverCount: count)
            let ends = s.endS.map { "ends at \(formatSeconds($0))" } ?? "ends after \(spec.requests ?? 0) requests per driver"
            print("  \(describe(s))")
            var share = "    per driver: \(spec.connections) connection(s)"
            if let rate = spec.rate { share += ", \(String(format: "%.2f", rate)) \(s.load.pacesSessions ? "sessions" : "requests")/s" }
            if let delay = spec.delay_ms { share += ", one request per connection every \(delay) ms" }
            print(share + "; starts at \(formatSeconds(s.startAfterS)), \(ends)")
            if !s.driverSelector.isEmpty {
                print("    on drivers labelled " + s.driverSelector.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
            }
            for t in s.thresholds { print("    threshold \(s.name)/\(t.key) \(t.name == .min_rps ? ">=" : "<=") \(t.value)") }
        }
        for t in config.thresholds { print("  threshold \(t.key) \(t.name == .min_rps ? ">=" : "<=") \(t.value) (the whole test)") }
    }
}
