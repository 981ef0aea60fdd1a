import HTTP1

/// Text with `{{...}}` fields filled in per request: `{{seq}}` (a number unique within the test,
/// across drivers), `{{session}}` (the session's number, likewise), `{{driver}}`, `{{conn}}`, `{{rand_int:LO:HI}}`, `{{uuid}}` and
/// `{{row.COLUMN}}` (a row of the test's CSV data), `{{var.NAME}}` (a value an earlier request of
/// the session captured); `|url` percent-encodes a row or variable value, `|json` escapes it for a
/// JSON string. Parsed once, before the run, into parts, so rendering never scans text.
public struct Template: Sendable, Equatable {
    public enum Part: Sendable, Equatable {
        case literal([UInt8])
        case seq
        case driver
        /// The scenario's name (`default` for a test without scenarios).
        case scenario
        case conn
        /// The session's number, unique across drivers (`order: sequence`).
        case session
        /// Inclusive bounds.
        case randInt(Int64, Int64)
        case uuid
        /// A column of the data, by index.
        case row(Int, Filter)
        /// A captured variable, by its index in the workload's table of variables.
        case variable(Int, Filter)
    }

    /// How a row or variable value is written.
    public enum Filter: String, Sendable, Equatable {
        case none, url, json
    }

    public let parts: [Part]

    /// The fields a template may name, as an error lists them.
    public static let known = "seq, session, driver, scenario, conn, rand_int:LO:HI, uuid, row.COLUMN, var.NAME (each of the last two with |url or |json)"

    /// No fields: the text renders to itself.
    public var isLiteral: Bool { parts.allSatisfy { if case .literal = $0 { return true } else { return false } } }

    /// Whether rendering needs the request's sequence number (`{{seq}}` or a data row).
    public var needsSequence: Bool {
        parts.contains { switch $0 { case .seq, .row: return true; default: return false } }
    }

    /// Whether it renders `{{session}}`.
    public var usesSession: Bool { parts.contains(.session) }

    /// Columns of the data the template reads unfiltered (their values must fit where they go).
    public var columns: [Int] { parts.compactMap { if case .row(let c, .none) = $0 { return c } else { return nil } } }

    /// Variables the template writes unfiltered (their values must fit where they go).
    public var rawVariables: [Int] { parts.compactMap { if case .variable(let v, .none) = $0 { return v } else { return nil } } }

    public init(literal bytes: [UInt8]) { parts = bytes.isEmpty ? [] : [.literal(bytes)] }

    /// - Parameters:
    ///   - columns: the data's column names (empty without data).
    ///   - variables: the variables captured before this request (name → index in the workload's table).
    /// - Throws: `TemplateError` naming an unknown or malformed field, a missing column, or a
    ///   variable no earlier request captures.
    public init(parsing text: String, columns: [String], variables: [String: Int] = [:]) throws(TemplateError) {
        var parts: [Part] = []
        var literal: [UInt8] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            literal += Array(rest[..<open.lowerBound].utf8)
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw TemplateError("unclosed '{{' in '\(text)'")
            }
            let field = rest[open.upperBound..<close.lowerBound].trimmingSpaces()
            if !literal.isEmpty { parts.append(.literal(literal)); literal = [] }
            parts.append(try Self.part(field, columns: columns, variables: variables))
            rest = rest[close.upperBound...]
        }
        literal += Array(rest.utf8)
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    private static func part(_ whole: String, columns: [String], variables: [String: Int]) throws(TemplateError) -> Part {
        var field = whole
        var filter = Filter.none
        if let bar = whole.firstIndex(of: "|") {
            field = String(whole[..<bar]).trimmingSpaces()
            let name = String(whole[whole.index(after: bar)...]).trimmingSpaces()
            guard let f = Filter(rawValue: name), f != .none else { throw TemplateError("{{\(whole)}}: unknown filter '\(name)' (known: url, json)") }
            guard field.hasPrefix("row.") || field.hasPrefix("var.") else {
                throw TemplateError("{{\(whole)}}: filters apply to row.COLUMN and var.NAME only")
            }
            filter = f
        }
        if field.hasPrefix("var.") {
            let name = String(field.dropFirst(4))
            guard let index = variables[name] else {
                let known = variables.keys.sorted()
                throw TemplateError("{{\(field)}}: no earlier request of the list captures '\(name)' (" +
                                    (known.isEmpty ? "none captures anything before this one" : "captured before this one: \(known.joined(separator: ", "))") +
                                    "); a variable is captured with \"capture\" and used by later requests of a sequence")
            }
            return .variable(index, filter)
        }
        switch field {
        case "seq": return .seq
        case "driver": return .driver
        case "scenario": return .scenario
        case "conn": return .conn
        case "session": return .session
        case "uuid": return .uuid
        default: break
        }
        if field.hasPrefix("rand_int:") {
            let bounds = field.dropFirst(9).split(separator: ":", omittingEmptySubsequences: false)
            guard bounds.count == 2, let lo = Int64(bounds[0]), let hi = Int64(bounds[1]), lo <= hi,
                  hi.subtractingReportingOverflow(lo).overflow == false else {
                throw TemplateError("{{\(field)}}: expected rand_int:LO:HI with integers LO <= HI")
            }
            return .randInt(lo, hi)
        }
        if field.hasPrefix("row.") {
            let name = String(field.dropFirst(4))
            guard !columns.isEmpty else { throw TemplateError("{{\(field)}} needs CSV data (--data FILE.csv, or \"data\": {\"csv\": ...})") }
            guard let index = columns.firstIndex(of: name) else {
                throw TemplateError("{{\(field)}}: the data has no column '\(name)' (columns: \(columns.joined(separator: ", ")))")
            }
            return .row(index, filter)
        }
        throw TemplateError("unknown template {{\(field)}} (known: \(known))")
    }

    /// The text with every field replaced by a representative value, for checking the result
    /// (a URL must still parse, a header must stay one line) before any request is sent.
    public func sample(row: [String]?) -> String {
        var out = ""
        for part in parts {
            switch part {
            case .literal(let bytes): out += String(decoding: bytes, as: UTF8.self)
            case .seq, .conn, .session: out += "0"
            case .driver: out += "driver"
            case .scenario: out += "scenario"
            case .randInt(let lo, _): out += String(lo)
            case .uuid: out += "00000000-0000-4000-8000-000000000000"
            case .row(let c, let filter): out += Self.filtered(row?[c] ?? "", filter)
            case .variable(_, let filter): out += Self.filtered("x", filter)
            }
        }
        return out
    }
}

extension Template {
    /// `value` as the filter writes it.
    public static func filtered(_ value: String, _ filter: Filter) -> String {
        var out: [UInt8] = []
        filter.write(Array(value.utf8)) { out.append($0) }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Template.Filter {
    /// Writes `value` filtered, byte by byte, to `emit` (rendering writes straight into its buffer).
    @inline(__always)
    public func write(_ value: some Sequence<UInt8>, _ emit: (UInt8) -> Void) {
        switch self {
        case .none: for b in value { emit(b) }
        case .url:
            // RFC 3986 unreserved characters stay; everything else is %XX.
            for b in value {
                if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E {
                    emit(b)
                } else {
                    emit(0x25); emit(Self.hex[Int(b >> 4)]); emit(Self.hex[Int(b & 0xF)])
                }
            }
        case .json:
            for b in value {
                switch b {
                case 0x22, 0x5C: emit(0x5C); emit(b)
                case 0x0A: emit(0x5C); emit(0x6E)
                case 0x0D: emit(0x5C); emit(0x72)
                case 0x09: emit(0x5C); emit(0x74)
                case 0..<0x20:
                    for c in Array("\\u00".utf8) { emit(c) }
                    emit(Self.hex[Int(b >> 4)]); emit(Self.hex[Int(b & 0xF)])
                default: emit(b)
                }
            }
        }
    }

    private static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
}

public struct TemplateError: Error, Equatable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
