import HTTP1
import Patterns
import StampedeModel

/// What a response offers captures: its kept headers (a header recorder's, read in place) and
/// the first `capture_bytes` of its body, decoded when it was gzip.
public struct ResponseView {
    public var headers: HeaderRecorder?
    public var body: UnsafeRawBufferPointer

    public init(headers: HeaderRecorder?, body: UnsafeRawBufferPointer) {
        self.headers = headers
        self.body = body
    }

    /// A response assembled by hand: header names (lower-cased) and values by name index.
    public init(names: [String], values: [(name: Int, value: [UInt8])], body: UnsafeRawBufferPointer) {
        let recorder = HeaderRecorder(names: names)
        for (name, value) in values { value.withUnsafeBytes { recorder.record(name, value: $0) } }
        self.init(headers: recorder, body: body)
    }

    /// The first value of a header, by its lower-cased name.
    public func header(_ lowercasedName: String) -> String? {
        guard let headers, let k = headers.names.firstIndex(where: { $0.elementsEqual(lowercasedName.utf8) }),
              let value = headers.firstValue(of: k) else { return nil }
        return String(decoding: value, as: UTF8.self)
    }
}

/// Runs a request's captures against its response. Holds the compiled regexes: linear-time
/// ones (`LinearRegex`), so no pattern and no body can hold a worker's thread. Values go to the
/// caller as bytes: a JSON string without escapes, a header's value or a regex group is handed
/// over where it lies, with no String made.
public final class CaptureRunner {
    public let rules: [CaptureRule]
    private let regexes: [LinearRegex?]
    private let paths: [ByteJSONPath?]

    public init(_ rules: [CaptureRule]) {
        self.rules = rules
        regexes = rules.map { rule in
            if case .regex(let pattern) = rule.source { return try? LinearRegex(pattern) }  // compiled in CaptureRule.init already
            return nil
        }
        paths = rules.map { rule in
            if case .json(let path) = rule.source { return ByteJSONPath(path) }
            return nil
        }
    }

    /// Gives each rule's value to `store` (the rule's index, the value's bytes, valid during the
    /// call); `cookie` answers a cookie capture (the jar's value for the name). Returns the
    /// variable of the first rule that found nothing and has no default (the session then
    /// fails), or nil when all succeeded.
    public func run(_ response: ResponseView, cookie: (String) -> String?, store: (Int, UnsafeRawBufferPointer) -> Void) -> String? {
        for k in rules.indices {
            // By kind first: a rule's source copied out per run (its names and path) cost about
            // 130 instructions.
            if let path = paths[k] {
                switch path.find(in: response.body) {
                case .raw(let range): store(k, UnsafeRawBufferPointer(rebasing: response.body[range])); continue
                case .unescaped(let text): Self.give(text, k, store); continue
                case nil: break
                }
            } else if let regex = regexes[k] {
                if let groups = regex.firstMatch(in: response.body), let range = groups.count > 1 ? groups[1] : groups[0] {
                    store(k, UnsafeRawBufferPointer(rebasing: response.body[range]))
                    continue
                }
            } else {
                switch rules[k].source {
                case .header(let name):
                    if let value = response.header(name) { Self.give(value, k, store); continue }
                case .cookie(let name):
                    if let value = cookie(name) { Self.give(value, k, store); continue }
                case .json, .regex: break
                }
            }
            guard let fallback = rules[k].defaultValue else { return rules[k].variable }
            Self.give(fallback, k, store)
        }
        return nil
    }

    /// The same with Strings, the jar given whole (tests and tools).
    public func run(_ response: ResponseView, jar: CookieJar, host: String, store: (Int, String) -> Void) -> String? {
        run(response, cookie: { jar.value(named: $0, host: host) }) { k, bytes in store(k, String(decoding: bytes, as: UTF8.self)) }
    }

    private static func give(_ text: String, _ k: Int, _ store: (Int, UnsafeRawBufferPointer) -> Void) {
        var text = text
        text.withUTF8 { store(k, UnsafeRawBufferPointer($0)) }
    }
}
