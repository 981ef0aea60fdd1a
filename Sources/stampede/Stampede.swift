import ArgumentParser

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
        subcommands: [VersionCommand.self])
}
