import Patterns

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
