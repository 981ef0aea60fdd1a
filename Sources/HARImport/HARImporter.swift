import StampedeModel

/// A value taken from a response and sent back by later requests.
public struct Correlation: Sendable {
    public var variable: String
    public var value: String
    /// The step whose response has it, by index, and how it is read there.
    public var step: Int
    public var source: String
    /// Where later steps send it: "step 3 (POST /login/) form field csrfmiddlewaretoken".
    public var uses: [String]
}

/// A value that looks generated (a nonce, a timestamp, an id) that no earlier response gave: sent
/// as recorded unless a `--template` rule renders it.
public struct Unresolved: Sendable {
    public var field: String
    public var value: String
    public var use: String
}

/// What an import made of a recording.
public struct ImportResult: Sendable {
    public var requests: [RequestSpec] = []
    /// Each step's recorded status (its redirect chain's last), and the redirects it followed.
    public var recordedStatuses: [Int] = []
    public var redirects: [Int] = []
    /// The longest redirect chain a step follows (the test's `follow_redirects`).
    public var followRedirects = 0
    /// Set when a capture reads further into a body than the default `capture_bytes`.
    public var captureBytes: Int?
    public var correlations: [Correlation] = []
    public var unresolved: [Unresolved] = []
    /// Values rendered by `--template` rules: field, template, use.
    public var templated: [(field: String, template: String, use: String)] = []
    public var leftOut: [LeftOut] = []
    /// Kept entries whose response body could not be searched (an encoding the import cannot read).
    public var unsearched: [LeftOut] = []
    /// `--data-fields` seen, in order, with the recorded value of each (the data file's first row).
    public var dataColumns: [String] = []
    public var dataRow: [String] = []
    public var entryCount = 0
    public var origin = ""
}

/// From a recording to a journey: keeps what a load test replays, follows redirects as one step,
/// and turns every value an earlier response gave into a capture and `{{var.NAME}}`.
public enum HARImporter {
    public static func run(_ file: HARFile, options: ImportOptions) -> ImportResult {
        let selection = Selection(file, options: options)
        let steps = selection.steps
        var result = ImportResult()
        result.entryCount = file.entries.count + file.unreadable.count
        result.leftOut = selection.leftOut.sorted { $0.index < $1.index }
        result.origin = selection.origin
        result.followRedirects = steps.map(\.hops).max() ?? 0
        result.unsearched = steps.flatMap(\.entries).compactMap { e in
            e.bodyProblem.map { LeftOut(index: e.index, what: "\(e.method) \(e.url)", reason: "response \($0): values in it are not correlated") }
        }

        var requests: [RecordedRequest] = []
        var captures = Array(repeating: [CaptureRule](), count: steps.count)
        var variableOf: [String: Int] = [:]  // value -> index in result.correlations
        var usedNames: Set<String> = []
        var typed: [String] = []
        var captureBytes = 0

        for (i, step) in steps.enumerated() {
            guard let url = RecordedURL(step.first.url) else { continue }
            var request = RecordedRequest(step.first, url: url)
            // A URL the user typed (the first page, or a page opened without a referrer) gives values no response did.
            if i == 0 || step.first.resourceType == "document" && step.first.requestHeader("Referer") == nil {
                typed.append(RecordedRequest.decode(step.first.url))
            }
            for send in request.sends {
                let use = "step \(i + 1) \(send.describe)"
                let value = send.value
                if let column = dataColumn(for: send, options: options, result: &result) {
                    request.replace(send) { template("row.\(column)", $0) }
                    continue
                }
                if let rule = options.templates[send.field] {
                    request.replace(send) { _ in "{{\(rule)}}" }
                    result.templated.append((send.field, "{{\(rule)}}", use))
                    continue
                }
                if value.count < 4 || typed.contains(where: { $0.contains(value) }) { continue }
                if let k = variableOf[value] {
                    let name = result.correlations[k].variable
                    request.replace(send) { template("var.\(name)", $0) }
                    result.correlations[k].uses.append(use)
                    continue
                }
                if let source = Correlator.source(of: value, in: steps, before: i) {
                    let name = variableName(send, source: source, used: &usedNames)
                    // The pattern and path were checked against the recorded response; a rule the
                    // model refuses would be a bug here, and the output's validation names it.
                    if let rule = try? CaptureRule(variable: name, kind: source.kind, argument: source.argument) { captures[source.step].append(rule) }
                    captureBytes = max(captureBytes, source.bodyBytes)
                    variableOf[value] = result.correlations.count
                    result.correlations.append(Correlation(variable: name, value: value, step: source.step,
                                                           source: "step \(source.step + 1) \(source.describe)", uses: [use]))
                    request.replace(send) { template("var.\(name)", $0) }
                } else if looksGenerated(value) {
                    result.unresolved.append(Unresolved(field: send.field.isEmpty ? "path" : send.field, value: value, use: use))
                }
            }
            requests.append(request)
        }
        if captureBytes > LoadSpec.defaultCaptureBytes { result.captureBytes = captureBytes }
        let names = stepNames(requests)

        for (i, step) in steps.enumerated() where i < requests.count {
            let r = requests[i]
            var spec = RequestSpec(url: r.url)
            spec.name = names[i]
            spec.method = r.method
            spec.headers = r.headers.map { ($0.name, $0.value) }
            spec.body = Array(r.bodyText.utf8)
            let status = step.last.status
            // A 304 answered the browser's cache check; the replay sends none, so it gets the page.
            spec.expectStatus = status == 304 ? [.range(2), .code(304)] : [.code(status)]
            spec.captures = captures[i]
            spec.thinkTime = think(after: i, in: steps, choice: options.think)
            result.requests.append(spec)
            result.recordedStatuses.append(status)
            result.redirects.append(step.hops)
        }
        return result
    }

    /// `{{var.NAME}}` (or `row.`) with the filter its place needs.
    static func template(_ reference: String, _ context: Context) -> String {
        switch context {
        case .url: return "{{\(reference)|url}}"
        case .json: return "{{\(reference)|json}}"
        case .plain: return "{{\(reference)}}"
        }
    }

    /// The data column a send becomes: a `--data-fields` field, or a value one of them had.
    private static func dataColumn(for send: Send, options: ImportOptions, result: inout ImportResult) -> String? {
        if options.dataFields.contains(send.field) {
            if !result.dataColumns.contains(send.field) {
                result.dataColumns.append(send.field)
                result.dataRow.append(send.value)
            }
            return send.field
        }
        guard send.value.count >= 4, let k = result.dataRow.firstIndex(of: send.value) else { return nil }
        return result.dataColumns[k]
    }

    /// "METHOD /path" as the journey sends it (a captured segment as `{NAME}`), numbered when a
    /// journey repeats it.
    static func stepNames(_ requests: [RecordedRequest]) -> [String] {
        var seen: [String: Int] = [:]
        return requests.map { r in
            let path = r.segments.map { s in
                guard s.hasPrefix("{{"), let dot = s.firstIndex(of: "."), let end = s.firstIndex(where: { $0 == "|" || $0 == "}" }) else { return s }
                return "{\(s[s.index(after: dot)..<end])}"
            }.joined(separator: "/")
            let base = "\(r.method) \(path)"
            seen[base, default: 0] += 1
            return seen[base]! == 1 ? base : "\(base) #\(seen[base]!)"
        }
    }

    /// From the field or key that sends it (a header's or a path's from where it was found),
    /// letters, digits and `_`, numbered when taken.
    static func variableName(_ send: Send, source: Source, used: inout Set<String>) -> String {
        var base: String
        switch send.place {
        case .header, .segment: base = source.hint.isEmpty ? send.field : source.hint
        default: base = send.field.isEmpty ? source.hint : send.field
        }
        base = String(base.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        while base.hasPrefix("_") { base.removeFirst() }
        while base.hasSuffix("_") { base.removeLast() }
        if base.isEmpty { base = "value" }
        if base.first!.isNumber { base = "v_" + base }
        var name = base
        var k = 2
        while used.contains(name) { name = "\(base)_\(k)"; k += 1 }
        used.insert(name)
        return name
    }

    /// A nonce, a timestamp or an id: letters and digits mixed, a long number, or a long token.
    static func looksGenerated(_ v: String) -> Bool {
        let digits = v.filter(\.isNumber).count
        let letters = v.filter(\.isLetter).count
        if v.contains(" ") { return false }
        return v.count >= 8 && digits > 0 && letters > 0 || v.count >= 10 && digits == v.count || v.count >= 20
    }

    /// The pause after step `i`: the recorded gap between its last response and the next step's start.
    static func think(after i: Int, in steps: [Step], choice: ThinkChoice) -> ThinkTime? {
        guard i + 1 < steps.count else { return nil }
        switch choice {
        case .none: return nil
        case .range(let a, let b): return .uniform(minMs: a, maxMs: b)
        case .recorded:
            let end = steps[i].last.startedMs + steps[i].last.timeMs
            let gap = (steps[i + 1].first.startedMs - end).rounded()
            return gap >= 1 ? .fixed(ms: min(gap, ThinkTime.maxMs)) : nil
        }
    }
}
