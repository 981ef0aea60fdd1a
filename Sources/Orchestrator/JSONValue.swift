import Foundation

/// A parsed JSON document that keeps the kind of every value, so validation can say "field X
/// must be an integer" instead of failing a whole decode.
public enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public static func parse(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    var kind: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A request field that is wrong: answered as `status` (400 unless it conflicts with existing
/// state, 409) with `{"error": reason, "field": field}`.
public struct FieldError: Error, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public let status: Int
    public init(_ field: String, _ reason: String, status: Int = 400) {
        self.field = field
        self.reason = reason
        self.status = status
    }
    public var description: String { "\(field): \(reason)" }
}

/// Typed reads from a JSON object, each failure naming the field.
struct FieldReader {
    let object: [String: JSONValue]

    func has(_ key: String) -> Bool { if case .some(let v) = object[key], v != .null { return true } else { return false } }

    func string(_ key: String) throws(FieldError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case let v?: throw FieldError(key, "must be a string, not \(v.kind)")
        }
    }

    func number(_ key: String, in range: ClosedRange<Double>) throws(FieldError) -> Double? {
        switch object[key] {
        case nil, .null?: return nil
        case .number(let n)?:
            guard range.contains(n) else { throw FieldError(key, "must be in \(fmt(range.lowerBound))...\(fmt(range.upperBound)), got \(fmt(n))") }
            return n
        case let v?: throw FieldError(key, "must be a number, not \(v.kind)")
        }
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(FieldError) -> Int? {
        guard let n = try number(key, in: Double(range.lowerBound)...Double(range.upperBound)) else { return nil }
        guard n == n.rounded() else { throw FieldError(key, "must be an integer, got \(n)") }
        return Int(n)
    }

    func object(_ key: String) throws(FieldError) -> [String: JSONValue]? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let o)?: return o
        case let v?: throw FieldError(key, "must be an object, not \(v.kind)")
        }
    }

    private func fmt(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d) }
}
