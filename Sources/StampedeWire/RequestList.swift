import Foundation

import StampedeModel

/// The JSON form of a list of requests, as `POST /tests` takes it in `requests`, a `--targets`
/// file holds it, and drivers receive it on the bus (`request_list`): one parser, so every entry
/// point reports the same error under its own field name.
public enum RequestList {
    public static let entryFields: Set<String> = [
        "name", "method", "url", "headers", "body", "body_base64", "weight", "expect_status", "expect_body", "capture", "think_ms"]

    /// - Parameter field: how errors name the list (`requests`, `request_list`).
    /// - Throws: `FieldError` naming the entry and its field: `requests[1].weight`.
    public static func parse(_ value: JSONValue, field: String) throws(FieldError) -> [RequestSpec] {
        guard case .array(let entries) = value else { throw FieldError(field, "must be an array of requests, not \(value.kind)") }
        guard !entries.isEmpty else { throw FieldError(field, "needs at least one request") }
        var out: [RequestSpec] = []
        for (k, entry) in entries.enumerated() {
            let path = "\(field)[\(k)]"
            guard case .object(let object) = entry else { throw FieldError(path, "must be an object, not \(entry.kind)") }
            if let unknown = object.keys.sorted().first(where: { !entryFields.contains($0) }) {
                throw FieldError("\(path).\(unknown)", "unknown field (known: \(entryFields.sorted().joined(separator: ", ")))")
            }
            let r = FieldReader(object: object, path: path)
            guard let url = try r.string("url") else { throw FieldError(r.name("url"), "is required (an http or https URL)") }
            var spec = RequestSpec(url: url)
            spec.name = try r.string("name")
            spec.method = (try r.string("method") ?? "GET").uppercased()
            for (name, value) in (try r.object("headers") ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard case .string(let s) = value else { throw FieldError(r.name("headers"), "value of '\(name)' must be a string") }
                spec.headers.append((name, s))
            }
            switch (try r.string("body"), try r.string("body_base64")) {
            case (.some, .some): throw FieldError(r.name("body_base64"), "give body or body_base64, not both")
            case (.some(let text), nil): spec.body = Array(text.utf8)
            case (nil, .some(let b64)):
                guard let data = Data(base64Encoded: b64) else { throw FieldError(r.name("body_base64"), "is not valid base64") }
                spec.body = [UInt8](data)
            case (nil, nil): break
            }
            spec.weight = try r.number("weight") ?? 1
            for item in try r.array("expect_status") ?? [] {
                let text: String
                switch item {
                case .number(let n): text = n == n.rounded() && abs(n) < 1000 ? String(Int(n)) : "\(n)"
                case .string(let s): text = s
                default: throw FieldError(r.name("expect_status"), "entries are statuses (200) or classes (\"2xx\"), not \(item.kind)")
                }
                guard let pattern = StatusPattern(text) else {
                    throw FieldError(r.name("expect_status"), "'\(text)' is neither a status 100...599 nor a class 1xx...5xx")
                }
                spec.expectStatus.append(pattern)
            }
            spec.expectBody = try r.string("expect_body")
            spec.captures = try captures(r)
            spec.thinkTime = try thinkTime(object["think_ms"], field: r.name("think_ms"))
            out.append(spec)
        }
        return out
    }

    /// The list as JSON (what `parse` reads back).
    public static func json(_ requests: [RequestSpec]) -> JSONValue {
        .array(requests.map { r in
            var o: [String: JSONValue] = ["url": .string(r.url), "method": .string(r.method)]
            if let name = r.name { o["name"] = .string(name) }
            if !r.headers.isEmpty {
                o["headers"] = .object(Dictionary(r.headers.map { ($0.0, JSONValue.string($0.1)) }, uniquingKeysWith: { _, b in b }))
            }
            if !r.body.isEmpty {
                if let text = String(validating: r.body, as: UTF8.self) { o["body"] = .string(text) }
                else { o["body_base64"] = .string(Data(r.body).base64EncodedString()) }
            }
            if r.weight != 1 { o["weight"] = .number(r.weight) }
            if !r.expectStatus.isEmpty {
                o["expect_status"] = .array(r.expectStatus.map {
                    if case .code(let c) = $0 { return .number(Double(c)) } else { return .string($0.description) }
                })
            }
            if let expect = r.expectBody { o["expect_body"] = .string(expect) }
            if !r.captures.isEmpty { o["capture"] = .object(Dictionary(uniqueKeysWithValues: r.captures.map { ($0.variable, captureJSON($0)) })) }
            if let think = r.thinkTime { o["think_ms"] = thinkJSON(think) }
            return .object(o)
        })
    }

    /// `"capture": {"csrf": {"json": "csrf"}, "next": {"header": "Location", "default": "/"}}`.
    static func captures(_ r: FieldReader) throws(FieldError) -> [CaptureRule] {
        guard let object = try r.object("capture") else { return [] }
        let field = r.name("capture")
        var rules: [CaptureRule] = []
        for (variable, value) in object.sorted(by: { $0.key < $1.key }) {
            let path = "\(field).\(variable)"
            guard case .object(let o) = value else {
                throw FieldError(path, "must be an object such as {\"json\": \"data.id\"} (kinds: json, regex, header, cookie), not \(value.kind)")
            }
            let kinds = o.keys.filter { $0 != "default" }.sorted()
            guard kinds.count == 1, let kind = kinds.first else {
                throw FieldError(path, "give exactly one of json, regex, header, cookie (and optionally default), got \(kinds.isEmpty ? "none" : kinds.joined(separator: ", "))")
            }
            guard case .string(let argument)? = o[kind] else { throw FieldError("\(path).\(kind)", "must be a string") }
            var fallback: String?
            switch o["default"] {
            case nil: break
            case .string(let s)?: fallback = s
            case let other?: throw FieldError("\(path).default", "must be a string, not \(other.kind)")
            }
            do { rules.append(try CaptureRule(variable: variable, kind: kind, argument: argument, defaultValue: fallback)) } catch {
                switch error {
                case .unknownKind: throw FieldError("\(path).\(kind)", error.description)
                case .badVariableName: throw FieldError(path, error.description)
                default: throw FieldError("\(path).\(kind)", error.description)
                }
            }
        }
        return rules
    }

    /// `"think_ms"`: a number, `[MIN, MAX]`, or `{"mean": M, "dist": "exponential"}`.
    static func thinkTime(_ value: JSONValue?, field: String) throws(FieldError) -> ThinkTime? {
        let think: ThinkTime
        switch value {
        case nil, .null?: return nil
        case .number(let n)?: think = .fixed(ms: n)
        case .array(let items)?:
            guard items.count == 2, case .number(let a) = items[0], case .number(let b) = items[1] else {
                throw FieldError(field, "a range is [MIN, MAX] in ms")
            }
            think = .uniform(minMs: a, maxMs: b)
        case .object(let o)?:
            guard case .number(let mean)? = o["mean"], case .string("exponential")? = o["dist"], o.count == 2 else {
                throw FieldError(field, "a distribution is {\"mean\": M, \"dist\": \"exponential\"} (ms)")
            }
            think = .exponential(meanMs: mean)
        case let other?: throw FieldError(field, "must be a number of ms, [MIN, MAX] or {\"mean\": M, \"dist\": \"exponential\"}, not \(other.kind)")
        }
        do { return try think.validated() } catch { throw FieldError(field, error.description) }
    }

    static func captureJSON(_ rule: CaptureRule) -> JSONValue {
        var o: [String: JSONValue] = [:]
        switch rule.source {
        case .json(let path): o["json"] = .string(path.description)
        case .regex(let pattern): o["regex"] = .string(pattern)
        case .header(let name): o["header"] = .string(name)
        case .cookie(let name): o["cookie"] = .string(name)
        }
        if let d = rule.defaultValue { o["default"] = .string(d) }
        return .object(o)
    }

    static func thinkJSON(_ think: ThinkTime) -> JSONValue {
        switch think {
        case .fixed(let ms): return .number(ms)
        case .uniform(let a, let b): return .array([.number(a), .number(b)])
        case .exponential(let m): return .object(["mean": .number(m), "dist": .string("exponential")])
        }
    }
}
