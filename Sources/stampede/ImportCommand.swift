import ArgumentParser
import Foundation
import HARImport
import StampedeModel
import StampedeWire

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn a recording into a journey (a request list or a whole test).",
        discussion: """
            `stampede import har FILE.har` reads a browser's recording (HAR 1.2: Chromium, Firefox, \
            Playwright) and writes a journey that runs as the browser did: captures for every value \
            a response gave, redirects followed, checks and think times. See docs/import.md.

            Examples:
              stampede import har login.har > journey.json
              stampede import har login.har --verify --config > test.json
            """,
        subcommands: [ImportHARCommand.self])
}

struct ImportHARCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "har",
        abstract: "Turn a browser's HAR recording into a journey that logs in and runs as the browser did.",
        discussion: """
            Reads a HAR 1.2 file as Chromium, Firefox and Playwright write it and writes the request \
            list (the --targets format, with captures, checks and think times) to standard output, or \
            with --config a whole TestConfig. What it did goes to standard error: each correlation \
            (the value's first 12 characters, the response it came from, the requests that send it), \
            what was left out and why, and values that look generated but no response gave.

            Kept: the requests to the first page's origin (and --origin ones), in time order, with \
            their method, headers, body and recorded status (expect_status). Left out: the browser's \
            Cookie, Host, Content-Length and Connection headers and its cache checks, static resources, \
            other origins, failed and cached entries. A redirect the browser followed is one step \
            (follow_redirects). Every value a request sends that an earlier response gave (a form \
            field, a query parameter, a JSON value, a header such as Authorization, a generated path \
            segment) becomes a capture on that response (json, regex, header, or cookie when only a \
            Set-Cookie had it) and {{var.NAME}} wherever it is sent later. See docs/import.md.

            Examples:
              stampede import har login.har > journey.json
              stampede bench --targets journey.json --order sequence \\
                --follow-redirects 1 -c 5 --sessions 50
              stampede import har login.har --data-fields username,password \\
                --data-out users.csv > journey.json
              stampede import har login.har --config > test.json
              stampede bench test.json
              stampede import har login.har --verify > journey.json
              stampede import har app.har --template nonce=uuid --think 500-2000 \\
                --origin https://api.example.com > journey.json
            """)

    @Argument(help: ArgumentHelp("The recording (HAR 1.2 JSON).", valueName: "file.har"))
    var file: String

    @Flag(help: "Write a whole TestConfig (avalanche, order sequence, follow_redirects, data) instead of a request list.")
    var config = false

    @Flag(name: .customLong("include-static"), help: "Keep style sheets, scripts, images, fonts and media (left out by default).")
    var includeStatic = false

    @Option(name: .customLong("origin"), help: ArgumentHelp("Keep requests to this origin too (scheme://host[:port]); repeat for more.", valueName: "origin"))
    var origins: [String] = []

    @Option(name: .customLong("data-fields"), help: ArgumentHelp("Form or JSON fields that become {{row.FIELD}} (each session its own user), comma-separated.", valueName: "f1,f2"))
    var dataFields: String?

    @Option(name: .customLong("data-out"), help: ArgumentHelp("Write the data file for --data-fields: its header line, then the recorded values as the first row.", valueName: "file.csv"))
    var dataOut: String?

    @Option(help: ArgumentHelp("Think time between steps: the recorded gaps, none, or uniform over MIN-MAX ms.", valueName: "recorded|none|MIN-MAX"))
    var think = "recorded"

    @Option(name: .customLong("template"), help: ArgumentHelp("Render a field's value with a template instead of the recorded one (uuid, rand_int:LO:HI); repeat for more.", valueName: "FIELD=TEMPLATE"))
    var templates: [String] = []

    @Flag(help: "Replay the journey once (one session, one connection) and print each step's recorded and replayed status and its captures; exit 0 only when every step matches.")
    var verify = false

    func run() throws {
        let options = try importOptions()
        guard let bytes = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read '\(file)'") }
        let har: HARFile
        do { har = try HARFile(bytes: Array(bytes)) } catch { throw ValidationError("\(file): \(error.reason)") }
        let result = HARImporter.run(har, options: options)
        guard !result.requests.isEmpty else {
            ImportSummary.print(result, file: file, options: options)
            throw ValidationError("\(file): no request to import (every entry was left out: see the list above)")
        }
        var spec: LoadSpec
        do {
            spec = try LoadSpec(requests: result.requests)
            spec.order = .sequence
            spec.followRedirects = result.followRedirects
            if let bytes = result.captureBytes { spec.captureBytes = bytes }
            if !result.dataColumns.isEmpty { spec.data = try CSVData(parsing: dataCSV(result)) }
            _ = try spec.validate()
        } catch let error as ConfigError {
            printError("stampede import har: the imported journey does not validate (\(error.description)): please report this with the recording")
            throw ExitCode(1)
        }
        if let dataOut {
            guard !result.dataColumns.isEmpty else { throw ValidationError("--data-out: no field of --data-fields was sent by the recording") }
            guard FileManager.default.createFile(atPath: dataOut, contents: Data(dataCSV(result).utf8)) else {
                throw ValidationError("--data-out: cannot write '\(dataOut)'")
            }
        }
        if config {
            spec.connections = 10
            spec.stop = .duration(60)
            print(PrettyJSON.text(TestConfig.json(testID: "imported", load: spec, drivers: nil, thresholds: [])))
        } else {
            print(PrettyJSON.text(RequestList.json(result.requests)))
        }
        ImportSummary.print(result, file: file, options: options)
        if verify, try !ImportVerify.run(spec, result: result) { throw ExitCode(1) }
    }

    /// The data file: the header line, then the recorded values.
    private func dataCSV(_ result: ImportResult) -> String {
        func cell(_ s: String) -> String { s.contains(where: { ",\"\n\r".contains($0) }) ? "\"\(s.replacingOccurrences(of: "\"", with: "\"\""))\"" : s }
        return result.dataColumns.map(cell).joined(separator: ",") + "\n" + result.dataRow.map(cell).joined(separator: ",") + "\n"
    }

    private func importOptions() throws -> ImportOptions {
        var options = ImportOptions()
        options.includeStatic = includeStatic
        for origin in origins {
            guard origin.hasPrefix("http://") || origin.hasPrefix("https://"), origin.count > 8 else {
                throw ValidationError("--origin: expected scheme://host[:port], got '\(origin)'")
            }
        }
        options.origins = origins
        if let dataFields {
            options.dataFields = dataFields.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if let bad = options.dataFields.first(where: { !CaptureRule.isVariableName($0) }) {
                throw ValidationError("--data-fields: '\(bad)' cannot be a data column (letters, digits and _, not starting with a digit)")
            }
        }
        if dataOut != nil && dataFields == nil { throw ValidationError("--data-out: give --data-fields too (the fields whose values it holds)") }
        switch think {
        case "recorded": options.think = .recorded
        case "none": options.think = .none
        default:
            let parts = think.split(separator: "-").map { Double($0) }
            guard parts.count == 2, let a = parts[0], let b = parts[1] else {
                throw ValidationError("--think: expected recorded, none or MIN-MAX in ms, got '\(think)'")
            }
            do { _ = try ThinkTime.uniform(minMs: a, maxMs: b).validated() } catch { throw ValidationError("--think: \(error.description)") }
            options.think = .range(minMs: a, maxMs: b)
        }
        for rule in templates {
            guard let eq = rule.firstIndex(of: "="), eq != rule.startIndex else {
                throw ValidationError("--template: expected FIELD=TEMPLATE (uuid or rand_int:LO:HI), got '\(rule)'")
            }
            let field = String(rule[..<eq]), text = String(rule[rule.index(after: eq)...])
            guard text == "uuid" || text.hasPrefix("rand_int:"), (try? Template(parsing: "{{\(text)}}", columns: [])) != nil else {
                throw ValidationError("--template \(field): '\(text)' is not uuid or rand_int:LO:HI (integers, LO <= HI)")
            }
            options.templates[field] = text
        }
        return options
    }
}

/// JSON with two-space indents and the keys of a request in reading order.
enum PrettyJSON {
    static let order = ["test_id", "name", "test_type", "method", "url", "headers", "body", "expect_status", "capture", "think_ms"]

    static func text(_ value: JSONValue, indent: String = "") -> String {
        let inner = indent + "  "
        switch value {
        case .array(let items) where !items.isEmpty:
            if items.allSatisfy({ if case .object = $0 { return false } else { return true } }) {
                return "[" + items.map { text($0) }.joined(separator: ", ") + "]"
            }
            return "[\n" + items.map { inner + text($0, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let o) where !o.isEmpty:
            let keys = o.keys.sorted { a, b in
                let (i, j) = (order.firstIndex(of: a) ?? order.count, order.firstIndex(of: b) ?? order.count)
                return i != j ? i < j : a < b
            }
            return "{\n" + keys.map { inner + JSONValue.string($0).text + ": " + text(o[$0]!, indent: inner) }.joined(separator: ",\n") + "\n\(indent)}"
        default:
            return value.text
        }
    }
}
