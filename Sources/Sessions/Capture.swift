/// Why a capture cannot be used, found before any load (the caller names the file entry or field).
public enum CaptureError: Error, Equatable, CustomStringConvertible {
    case unknownKind(String)
    case malformedPath(String, String)
    case invalidRegex(String, String)
    case badVariableName(String)
    case emptyArgument(String)

    public var description: String {
        switch self {
        case .unknownKind(let k): return "unknown capture kind '\(k)' (known: json, regex, header, cookie)"
        case .malformedPath(let p, let why): return "json path '\(p)' \(why)"
        case .invalidRegex(let r, let why): return "regex '\(r)' does not compile: \(why)"
        case .badVariableName(let n): return "variable name '\(n)' must be letters, digits and _ (not starting with a digit)"
        case .emptyArgument(let k): return "\(k) needs a non-empty value"
        }
    }
}

/// Where a captured value comes from in a response.
public enum CaptureSource: Sendable, Equatable {
    /// A value in the JSON body, by path.
    case json(JSONPath)
    /// The first group of the first match in the body (the whole match without a group).
    case regex(String)
    /// A response header (the first of that name), by its name in any case.
    case header(String)
    /// A cookie the session's jar holds after this response.
    case cookie(String)

    /// Whether it reads the body (which is then kept, up to `capture_bytes`).
    public var readsBody: Bool {
        switch self {
        case .json, .regex: return true
        case .header, .cookie: return false
        }
    }
}

/// One `capture` entry of a request: `"csrf": {"json": "csrf", "default": "none"}`.
public struct CaptureRule: Sendable, Equatable {
    public let variable: String
    public let source: CaptureSource
    /// Used when the value is not found; without it, not finding the value fails the session.
    public let defaultValue: String?

    /// - Throws: `CaptureError` for an unknown kind, a malformed path, a regex that does not
    ///   compile, an empty argument or a variable name that templates could not name.
    public init(variable: String, kind: String, argument: String, defaultValue: String? = nil) throws(CaptureError) {
        guard Self.isVariableName(variable) else { throw .badVariableName(variable) }
        guard !argument.isEmpty else { throw kind == "json" ? .malformedPath(argument, "is empty") : .emptyArgument(kind) }
        switch kind {
        case "json": source = .json(try JSONPath(argument))
        case "regex":
            do { _ = try LinearRegex(argument) } catch { throw .invalidRegex(argument, "\(error)") }
            source = .regex(argument)
        case "header": source = .header(argument.lowercased())
        case "cookie": source = .cookie(argument)
        default: throw .unknownKind(kind)
        }
        self.variable = variable
        self.defaultValue = defaultValue
    }

    /// Letters, digits and `_`, not starting with a digit.
    public static func isVariableName(_ name: String) -> Bool {
        guard let first = name.first, !(first.isASCII && first.isNumber) else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}

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
        for (k, rule) in rules.enumerated() {
            var value: String?
            switch rule.source {
            case .json(let path): value = path.find(in: response.body)
            case .header(let name): value = response.header(name)
            case .cookie(let name): value = jar.value(named: name, host: host)
            case .regex:
                if let regex = regexes[k], let groups = regex.firstMatch(in: response.body),
                   let range = groups.count > 1 ? groups[1] : groups[0] {
                    value = String(decoding: UnsafeRawBufferPointer(rebasing: response.body[range]), as: UTF8.self)
                }
            }
            guard let found = value ?? rule.defaultValue else { return rule.variable }
            store(k, found)
        }
        return nil
    }
}
