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

    /// Why `bytes` are not JSON, placed where the parser could say: "not valid JSON (line 2,
    /// column 10)". Foundation's parser gives the character offset; lines and columns count from 1.
    public static func syntaxProblem(_ bytes: [UInt8]) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            return "not valid JSON"
        } catch {
            let text = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
            guard let match = text.firstMatch(of: /character (\d+)/), let offset = Int(match.1) else { return "not valid JSON" }
            let before = bytes.prefix(Swift.min(offset, bytes.count))
            let line = before.filter { $0 == 10 }.count + 1
            let column = before.count - (before.lastIndex(of: 10).map { $0 + 1 } ?? 0) + 1
            return "not valid JSON (line \(line), column \(column))"
        }
    }

    public var kind: String {
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

/// Typed reads from a JSON object, each failure naming the field. Ranges are the validator's
/// business (`LoadSpec.validate()`); this checks kinds only.
public struct FieldReader {
    public let object: [String: JSONValue]
    /// Prefix of the field names errors carry (`requests[2]` for an entry of a list).
    public let path: String

    public init(object: [String: JSONValue], path: String = "") { self.object = object; self.path = path }

    /// The field's name as an error reports it.
    public func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    public func string(_ key: String) throws(FieldError) -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case let v?: throw FieldError(name(key), "must be a string, not \(v.kind)")
        }
    }

    public func number(_ key: String) throws(FieldError) -> Double? {
        switch object[key] {
        case nil, .null?: return nil
        case .number(let n)?: return n
        case let v?: throw FieldError(name(key), "must be a number, not \(v.kind)")
        }
    }

    public func integer(_ key: String) throws(FieldError) -> Int? {
        guard let n = try number(key) else { return nil }
        guard n == n.rounded() else { throw FieldError(name(key), "must be an integer, got \(n)") }
        // Beyond 2^53 a double no longer holds every integer (and Int(n) would trap past Int.max).
        guard abs(n) <= 9_007_199_254_740_992 else { throw FieldError(name(key), "is out of range, got \(n)") }
        return Int(n)
    }

    public func object(_ key: String) throws(FieldError) -> [String: JSONValue]? {
        switch object[key] {
        case nil, .null?: return nil
        case .object(let o)?: return o
        case let v?: throw FieldError(name(key), "must be an object, not \(v.kind)")
        }
    }

    public func array(_ key: String) throws(FieldError) -> [JSONValue]? {
        switch object[key] {
        case nil, .null?: return nil
        case .array(let a)?: return a
        case let v?: throw FieldError(name(key), "must be an array, not \(v.kind)")
        }
    }
}

extension JSONValue: Encodable {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n):
            if n == n.rounded() && abs(n) < 1e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// As compact JSON text with sorted keys.
    public var text: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // A JSONValue holds only JSON kinds (numbers came from JSON, so they are finite): encoding cannot fail.
        return String(decoding: (try? encoder.encode(self)) ?? Data("null".utf8), as: UTF8.self)
    }
}
