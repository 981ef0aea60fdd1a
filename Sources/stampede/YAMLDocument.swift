import ArgumentParser
import StampedeWire
import Yams

/// A YAML test file read into the JSON document it stands for (`shop.yaml` is `shop.json` written
/// in YAML): mappings, sequences and scalars resolved by YAML's core schema. Errors name the file
/// and where in it.
enum YAMLDocument {
    static func isYAML(_ path: String) -> Bool {
        path.hasSuffix(".yaml") || path.hasSuffix(".yml")
    }

    static func json(from text: String, path: String) throws -> JSONValue {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw ValidationError("\(path): not valid YAML: \(error)") }
        guard let node else { throw ValidationError("\(path): the YAML document is empty (a TestConfig is a mapping)") }
        return try convert(node, at: "", path: path)
    }

    private static func convert(_ node: Node, at place: String, path: String) throws -> JSONValue {
        let here = place.isEmpty ? "the top" : place
        switch node {
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return node.bool.map(JSONValue.bool) ?? .string(scalar.string)
            case Tag.Name.int.rawValue: return node.int.map { .number(Double($0)) } ?? .string(scalar.string)
            case Tag.Name.float.rawValue:
                guard let value = node.float, value.isFinite else { throw ValidationError("\(path): \(here): '\(scalar.string)' is not a finite number") }
                return .number(value)
            default: return .string(scalar.string)
            }
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard let name = key.string else { throw ValidationError("\(path): \(here): a key must be text") }
                let inner = place.isEmpty ? name : "\(place).\(name)"
                guard object[name] == nil else {
                    throw ValidationError("\(path): \(inner) is given twice: each name may appear once in a mapping")
                }
                object[name] = try convert(value, at: inner, path: path)
            }
            return .object(object)
        case .sequence(let sequence):
            return .array(try sequence.enumerated().map { k, item in try convert(item, at: "\(place)[\(k)]", path: path) })
        case .alias:
            throw ValidationError("\(path): \(here): YAML aliases are not taken (write the value out)")
        }
    }
}
