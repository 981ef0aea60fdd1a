import Foundation
import Testing
import TestSupport

/// docs/ is the contract: these keep it true against the real binary and a real orchestrator.
@Suite(.serialized) struct ContractDocsTests {
    static func doc(_ name: String) throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent("docs/\(name)"), encoding: .utf8)
    }

    @Test func everyEndpointInTheDocsAnswers() throws {
        // Table rows such as "| GET /tests/{id} | …".
        let rows = try Self.doc("rest-api.md").split(separator: "\n").compactMap { line -> (String, String)? in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let words = cells.first?.split(separator: " ") ?? []
            guard words.count == 2, ["GET", "POST"].contains(words[0]), words[1].hasPrefix("/") else { return nil }
            return (String(words[0]), String(words[1]))
        }
        #expect(rows.count >= 10, "endpoints found in docs/rest-api.md: \(rows)")
        let cluster = try Cluster(drivers: 0)
        defer { cluster.stop() }
        let config = #"{"target": "http://127.0.0.1:1/", "duration_s": 1}"#
        #expect(try cluster.startTest("doc-1", config) == 503)  // created; no driver to run it
        for (method, path) in rows {
            let concrete = path.replacingOccurrences(of: "{id}", with: "doc-1")
            let body: String? = switch path {
            case "/tests": #"{"test_id": "doc-2", "target": "http://127.0.0.1:1/", "duration_s": 1}"#
            case "/trigger": #"{"test_id": "doc-1"}"#
            default: nil
            }
            let (status, answer) = try cluster.api(method, concrete, body: body)
            #expect(status != 405 && !answer.contains(#""field":"path""#), "\(method) \(path): \(status) \(answer)")
            switch path {
            case "/ws": #expect(status == 426, "\(path): a GET without an upgrade needs one, got \(status)")
            case "/tests/{id}/report.html", "/tests/{id}/junit.xml": #expect(status == 404 && answer.contains("written when the test ends"), "\(path): \(status) \(answer)")
            case "/trigger": #expect(status == 503 && answer.contains(#""field":"drivers""#), "\(path): no driver, got \(status) \(answer)")
            case "/tests/{id}/stop": #expect(status == 409 && answer.contains("not running"), "\(path): a created test, got \(status) \(answer)")
            case "/history/NAME": #expect(status == 404 && answer.contains(#""field":"name""#), "\(path): no finished test, got \(status) \(answer)")
            default: #expect((200..<300).contains(status), "\(method) \(path): \(status) \(answer)")
            }
        }
    }

    @Test(arguments: ["bench", "run", "search", "report", "compare", "orchestrator", "driver", "target", "validate", "import har"])
    func everyFlagInHelpIsDocumented(command: String) throws {
        let help = try runCommand(stampedeBinary, command.split(separator: " ").map(String.init) + ["--help"], timeout: 30)
        let cli = try Self.doc("cli.md")
        let flags = Set(help.stdout.split(separator: "\n").compactMap { line -> String? in
            // Option lines start at column 2; deeper lines continue a description.
            guard line.hasPrefix("  -") else { return nil }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.split(separator: " ").map(String.init).first { $0.hasPrefix("--") }?
                .trimmingCharacters(in: CharacterSet(charactersIn: ","))
        }).subtracting(["--help", "--version"])
        #expect(flags.count >= (command == "report" ? 1 : 3), "\(command): \(help.stdout)")
        for flag in flags.sorted() {
            #expect(cli.range(of: "\(flag)(?![a-z0-9-])", options: .regularExpression) != nil, "\(command) \(flag) is not in docs/cli.md")
        }
    }

    /// Example commands in a text: lines starting `stampede COMMAND `, joined with their `\`
    /// continuation lines.
    static func examples(in text: String, commands: [String]) -> [String] {
        var found: [String] = []
        var current: String?
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if current == nil, commands.contains(where: { line.hasPrefix("stampede \($0) http") }) { current = "" }
            guard var example = current else { continue }
            example += line.hasSuffix("\\") ? String(line.dropLast()) : line
            if line.hasSuffix("\\") { current = example } else { found.append(example); current = nil }
        }
        return found
    }

    /// No command's --help wraps an example (ArgumentParser wraps at 80 columns): in an
    /// Example(s) block every line is indented, under 80 columns, and a `\` continues a command.
    @Test(arguments: ["bench", "run", "search", "report", "compare", "target", "orchestrator", "driver", "validate", "import", "import har"])
    func helpExamplesAreNotWrapped(command: String) throws {
        let help = try runCommand(stampedeBinary, command.split(separator: " ").map(String.init) + ["--help"], timeout: 30).stdout
        var inExamples = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Example") { inExamples = true; continue }
            if line.isEmpty || line.hasPrefix("USAGE") { inExamples = false }
            guard inExamples else { continue }
            #expect(line.hasPrefix("  ") && line.count < 80 && line.trimmingCharacters(in: .whitespaces) != "\\",
                    "\(command) --help wraps an example: '\(line)'")
        }
    }

    /// Every `stampede bench` and `stampede run` example in --help and in the README parses: run
    /// with --dry-run (flags checked, nothing sent), from a directory where its @files exist. And
    /// --help prints none wrapped (ArgumentParser wraps at 80 columns: a wrapped example cannot be
    /// pasted).
    @Test func everyLoadExampleParses() throws {
        var examples: [String] = []
        for command in ["bench", "run"] {
            let help = try runCommand(stampedeBinary, [command, "--help"], timeout: 30).stdout
            let found = Self.examples(in: help, commands: [command])
            #expect(found.count >= 2, "\(command) --help: \(help)")
            var continued = false
            for line in help.split(separator: "\n") {
                if line.hasPrefix("  stampede \(command) ") || continued { #expect(line.count < 80, "\(command) --help wraps: \(line)") }
                continued = (line.hasPrefix("  stampede \(command) ") || continued) && line.hasSuffix("\\")
            }
            examples += found
        }
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
            + Self.doc("cli.md") + Self.doc("workload.md")
        examples += Self.examples(in: readme, commands: ["bench", "run"])
        #expect(examples.count >= 6, "\(examples)")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("stampede-examples-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        try Data(#"{"item": 1}"#.utf8).write(to: scratch.appendingPathComponent("payload.json"))
        // The files the workload examples name: a JSON list, a Vegeta file, CSV data.
        try Data(#"[{"name": "home", "url": "http://127.0.0.1:8080/", "weight": 3}, {"url": "http://127.0.0.1:8080/items/{{seq}}"}]"#.utf8)
            .write(to: scratch.appendingPathComponent("mix.json"))
        try Data("GET http://127.0.0.1:8080/\nX-Test: 1\n\nPOST http://127.0.0.1:8080/orders\n@payload.json\n".utf8)
            .write(to: scratch.appendingPathComponent("targets.txt"))
        try Data("id,name\n1,ann\n2,bob\n".utf8).write(to: scratch.appendingPathComponent("users.csv"))
        try Data("5 rate 1000\n10 pause\n12 resume\n".utf8).write(to: scratch.appendingPathComponent("steps.txt"))
        for example in examples {
            // Drop a trailing comment or redirection: the flags are what is checked.
            var line = example
            for marker in ["  #", " > "] { if let r = line.range(of: marker) { line = String(line[..<r.lowerBound]) } }
            let command = "cd '\(scratch.path)' && '\(stampedeBinary.path)' \(line.dropFirst("stampede ".count)) --dry-run"
            let result = try runCommand(URL(fileURLWithPath: "/bin/sh"), ["-c", command], timeout: 30)
            #expect(result.status == 0, "\(example): \(result.stderr)")
            #expect(result.stdout.contains(#""target":"#) || result.stdout.contains(#""requests":"#), "\(example): \(result.stdout)")
        }
    }
}
