import HTTP1

/// Text with `{{...}}` fields filled in per request: `{{seq}}` (a number unique within the test,
/// across drivers), `{{driver}}`, `{{conn}}`, `{{rand_int:LO:HI}}`, `{{uuid}}` and
/// `{{row.COLUMN}}` (a row of the test's CSV data). Parsed once, before the run, into parts, so
/// rendering never scans text.
public struct Template: Sendable, Equatable {
    public enum Part: Sendable, Equatable {
        case literal([UInt8])
        case seq
        case driver
        case conn
        /// Inclusive bounds.
        case randInt(Int64, Int64)
        case uuid
        /// A column of the data, by index.
        case row(Int)
    }

    public let parts: [Part]

    /// The fields a template may name, as an error lists them.
    public static let known = "seq, driver, conn, rand_int:LO:HI, uuid, row.COLUMN"

    /// No fields: the text renders to itself.
    public var isLiteral: Bool { parts.allSatisfy { if case .literal = $0 { return true } else { return false } } }

    /// Whether rendering needs the request's sequence number (`{{seq}}` or a data row).
    public var needsSequence: Bool {
        parts.contains { switch $0 { case .seq, .row: return true; default: return false } }
    }

    /// Columns of the data the template reads.
    public var columns: [Int] { parts.compactMap { if case .row(let c) = $0 { return c } else { return nil } } }

    public init(literal bytes: [UInt8]) { parts = bytes.isEmpty ? [] : [.literal(bytes)] }

    /// - Parameter columns: the data's column names (empty without data).
    /// - Throws: `TemplateError` naming an unknown or malformed field, or a missing column.
    public init(parsing text: String, columns: [String]) throws(TemplateError) {
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
            parts.append(try Self.part(field, columns: columns))
            rest = rest[close.upperBound...]
        }
        literal += Array(rest.utf8)
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    private static func part(_ field: String, columns: [String]) throws(TemplateError) -> Part {
        switch field {
        case "seq": return .seq
        case "driver": return .driver
        case "conn": return .conn
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
            return .row(index)
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
            case .seq, .conn: out += "0"
            case .driver: out += "driver"
            case .randInt(let lo, _): out += String(lo)
            case .uuid: out += "00000000-0000-4000-8000-000000000000"
            case .row(let c): out += row?[c] ?? ""
            }
        }
        return out
    }
}

public struct TemplateError: Error, Equatable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
