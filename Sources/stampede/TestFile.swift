import ArgumentParser
import Foundation
import StampedeModel
import StampedeWire

/// A test file: the TestConfig document `POST /tests` takes (JSON, or the same in YAML for a
/// `.yaml`/`.yml` file), run by `bench FILE` and
/// `run FILE`. Flags beside it set its test-wide fields (`--seed`, `--threshold`, `--source-addrs`)
/// and `-H` adds a header to every request that does not set it; they are written into the
/// document before it is read, so the one validator judges the result and names the path.
struct TestFile {
    let path: String
    let config: TestConfig

    /// A command's first argument is a test file (not a URL) when it names a file that exists.
    static func isTestFile(_ argument: String?) -> Bool {
        guard let argument, !argument.contains("://") else { return false }
        return FileManager.default.fileExists(atPath: argument)
    }

    /// - Throws: `ValidationError` naming the file and the path in it (`scenarios.buy.rate`),
    ///   or the flag.
    init(path: String, options: LoadOptions, testID: String) throws {
        self.path = path
        if let flag = options.loadFlagsGiven.first {
            throw ValidationError("\(flag): the test file \(path) sets its scenarios' loads; beside a file, flags set only --seed, --threshold, --source-addrs and -H (headers for every request)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read the test file '\(path)'") }
        let bytes = Array(data)
        let value: JSONValue
        if YAMLDocument.isYAML(path) {
            guard let text = String(data: data, encoding: .utf8) else { throw ValidationError("\(path): not UTF-8 text") }
            value = try YAMLDocument.json(from: text, path: path)
        } else {
            guard let parsed = JSONValue.parse(bytes) else { throw ValidationError("\(path): \(JSONValue.syntaxProblem(bytes))") }
            value = parsed
        }
        guard case .object(var document) = value else { throw ValidationError("\(path): a test file is an object (a TestConfig), not \(value.kind)") }
        if let seed = options.seed { document["seed"] = .number(Double(seed)) }
        if let name = options.name { document["name"] = .string(name) }
        if let addrs = options.sourceAddrs { document["source_addrs"] = .string(addrs) }
        for text in options.thresholds { try Self.add(threshold: text, to: &document, path: path) }
        let headers = try options.parsedHeaders()
        if !headers.isEmpty {
            if case .object(var scenarios)? = document["scenarios"] {
                for (name, scenario) in scenarios { scenarios[name] = Self.adding(headers, to: scenario) }
                document["scenarios"] = .object(scenarios)
            } else {
                document = Self.adding(headers, to: .object(document)).objectValue ?? document
            }
        }
        if document["test_id"] == nil { document["test_id"] = .string(testID) }
        do {
            config = try TestConfig(json: Array(JSONValue.object(document).text.utf8), generatedID: { testID })
        } catch {
            throw ValidationError("\(path): \(error.field): \(error.reason)")
        }
    }

    /// `--threshold 'p99_ms=500'` (test-wide), `'buy/p99_ms=800'`, `'buy/checkout:p99_ms=300,abort'`.
    static func add(threshold text: String, to document: inout [String: JSONValue], path: String) throws {
        var scenario: String?
        var rest = text
        if let slash = text.firstIndex(of: "/"), let eq = text.firstIndex(of: "="), slash < eq {
            scenario = String(text[..<slash])
            rest = String(text[text.index(after: slash)...])
        }
        let t: Threshold
        do { t = try Threshold(parsing: rest) } catch { throw ValidationError("--threshold: \(error.reason)") }
        var limit: JSONValue = .number(t.value)
        if t.abortOnFail {
            var o: [String: JSONValue] = ["limit": .number(t.value), "abort_on_fail": .bool(true)]
            if t.delayAbortEvalS > 0 { o["delay_abort_eval_s"] = .number(t.delayAbortEvalS) }
            limit = .object(o)
        }
        guard let scenario else {
            var thresholds = document["thresholds"]?.objectValue ?? [:]
            thresholds[t.key] = limit
            document["thresholds"] = .object(thresholds)
            return
        }
        guard case .object(var scenarios)? = document["scenarios"], case .object(var one)? = scenarios[scenario] else {
            let names = document["scenarios"]?.objectValue?.keys.sorted().joined(separator: ", ") ?? "none: the file has no scenarios"
            throw ValidationError("--threshold '\(text)': \(path) has no scenario '\(scenario)' (scenarios: \(names))")
        }
        var thresholds = one["thresholds"]?.objectValue ?? [:]
        thresholds[t.key] = limit
        one["thresholds"] = .object(thresholds)
        scenarios[scenario] = .object(one)
        document["scenarios"] = .object(scenarios)
    }

    /// A load (a scenario, or a test without scenarios) with each header added where its
    /// request does not set one of that name.
    static func adding(_ headers: [(String, String)], to load: JSONValue) -> JSONValue {
        guard case .object(var o) = load else { return load }
        func merged(_ existing: JSONValue?) -> JSONValue {
            var h = existing?.objectValue ?? [:]
            for (name, value) in headers where !h.keys.contains(where: { $0.lowercased() == name.lowercased() }) { h[name] = .string(value) }
            return .object(h)
        }
        if case .array(let list)? = o["requests"] {
            o["requests"] = .array(list.map { entry in
                guard case .object(var request) = entry else { return entry }
                request["headers"] = merged(request["headers"])
                return .object(request)
            })
        } else if o["target"] != nil {
            o["headers"] = merged(o["headers"])
        }
        return .object(o)
    }
}

extension JSONValue {
    var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
}
