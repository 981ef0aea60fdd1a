import Patterns
import StampedeModel

/// What a response offers captures: its kept headers (`names`, lower-cased, and the values by
/// name index, as a header recorder keeps them) and the first `capture_bytes` of its body,
/// decoded when it was gzip.
public struct ResponseView {
    public var names: [String]
    public var values: [(name: Int, value: [UInt8])]
    public var body: UnsafeRawBufferPointer

    public init(names: [String], values: [(name: Int, value: [UInt8])], body: UnsafeRawBufferPointer) {
        self.names = names
        self.values = values
        self.body = body
    }

    /// The first value of a header, by its lower-cased name.
    public func header(_ lowercasedName: String) -> String? {
        guard let k = names.firstIndex(of: lowercasedName), let value = values.first(where: { $0.name == k })?.value else { return nil }
        return String(decoding: value, as: UTF8.self)
    }
}

/// Runs a request's captures against its response. Holds the compiled regexes: linear-time
/// ones (`LinearRegex`), so no pattern and no body can hold a worker's thread.
public final class CaptureRunner {
    public let rules: [CaptureRule]
    private let regexes: [LinearRegex?]

    public init(_ rules: [CaptureRule]) {
        self.rules = rules
        regexes = rules.map { rule in
            if case .regex(let pattern) = rule.source { return try? LinearRegex(pattern) }  // compiled in CaptureRule.init already
            return nil
        }
    }

    /// Gives each rule's value to `store` (the rule's index, the value); returns the variable of
    /// the first rule that found nothing and has no default (the session then fails), or nil
    /// when all succeeded.
    public func run(_ response: ResponseView, jar: CookieJar, host: String, store: (Int, String) -> Void) -> String? {
        // By index: a rule copied per run (its names and default) cost about 130 instructions.
        for k in rules.indices {
            var value: String?
            switch rules[k].source {
            case .json(let path): value = path.find(in: response.body)
            case .header(let name): value = response.header(name)
            case .cookie(let name): value = jar.value(named: name, host: host)
            case .regex:
                if let regex = regexes[k], let groups = regex.firstMatch(in: response.body),
                   let range = groups.count > 1 ? groups[1] : groups[0] {
                    value = String(decoding: UnsafeRawBufferPointer(rebasing: response.body[range]), as: UTF8.self)
                }
            }
            guard let found = value ?? rules[k].defaultValue else { return rules[k].variable }
            store(k, found)
        }
        return nil
    }
}
