import ArgumentParser
import Foundation
import ReportPage

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a test's report.html again from the files in its reports directory.",
        discussion: """
            Reads DIR/report.json, DIR/latency.hlog, DIR/test.json and DIR/drivers/*.json (as the \
            orchestrator and stampede run write them) and writes DIR/report.html: one self-contained \
            page (charts inline, opens from file:// with no network). The same files give the same bytes.

            Examples:
              stampede report ./reports/checkout-1
              stampede report ./reports/checkout-1 --output /tmp/checkout-1.html
            """)

    @Argument(help: "A test's reports directory (<reports-dir>/<test_id>).")
    var directory: String

    @Option(help: ArgumentHelp("Write the page here instead of DIR/report.html.", valueName: "file"))
    var output: String?

    func run() throws {
        let dir = URL(fileURLWithPath: directory, isDirectory: true)
        let page: String
        do { page = try ReportPage.render(directory: dir) } catch let error as ReportPageError {
            throw ValidationError("DIR: \(error)")
        }
        let target = output ?? dir.appendingPathComponent("report.html").path
        guard FileManager.default.createFile(atPath: target, contents: Data(page.utf8)) else {
            throw ValidationError("--output: cannot write '\(target)'")
        }
        print(target)
    }
}
