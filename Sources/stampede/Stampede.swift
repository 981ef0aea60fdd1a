import ArgumentParser
import Foundation
import Reactor

@main
struct Stampede: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stampede",
        abstract: "A distributed HTTP/1.1 load tester with exact, mergeable latency histograms.",
        discussion: """
            Latencies are recorded in microseconds into HDR histograms (1 µs .. 1 h, 3 significant \
            digits) and merged, never averaged, so percentiles stay exact to histogram precision.
            """,
        version: stampedeVersion,
        subcommands: [BenchCommand.self, RunCommand.self, ValidateCommand.self, SearchCommand.self, ImportCommand.self, ReportCommand.self, CompareCommand.self, TargetCommand.self, OrchestratorCommand.self, DriverCommand.self, VersionCommand.self])

    /// Usage errors exit 2 (docs/cli.md), not ArgumentParser's 64; the message names the flag.
    static func main() {
        // Before any thread starts: a peer that goes away must never end the process (see the function).
        ignoreBrokenPipes()
        do {
            var command = try parseAsRoot(AttachedShortValues.split(try EnvironmentFlags.apply(Array(CommandLine.arguments.dropFirst()))))
            try command.run()
        } catch {
            if exitCode(for: error) == .validationFailure {
                let args = CommandLine.arguments.dropFirst()
                let command = args.first.map { $0.hasPrefix("-") ? "" : " \($0)" } ?? ""
                let text = "stampede\(command): \(message(for: error))\nRun 'stampede\(command) --help' for usage.\n"
                FileHandle.standardError.write(Data(text.utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
