/// A path of keys and indices into a JSON document (`data.items[0].id`, `[2].name`, `token`),
/// found by walking the bytes: nothing but the value found is copied, and a body that is cut off
/// (`capture_bytes`) still yields any value that lies before the cut.
public struct JSONPath: Sendable, Equatable, CustomStringConvertible {
    public enum Step: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    public let steps: [Step]
    public let description: String

    /// Parses `a.b[0].c`. Keys are any characters but `.` and `[`; indices are decimal.
    /// - Throws: `CaptureError.malformedPath` naming the problem.
    public init(_ text: String) throws(CaptureError) {
        description = text
        var steps: [Step] = []
        var rest = Substring(text)
        guard !rest.isEmpty else { throw .malformedPath(text, "is empty") }
        var expectKey = !rest.hasPrefix("[")
        while !rest.isEmpty {
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else { throw .malformedPath(text, "'[' without ']'") }
                let digits = rest[rest.index(after: rest.startIndex)..<close]
                guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits) else {
                    throw .malformedPath(text, "an index must be a number, got '[\(digits)]'")
                }
                steps.append(.index(n))
                rest = rest[rest.index(after: close)...]
                if rest.hasPrefix(".") { rest = rest.dropFirst(); expectKey = true } else { expectKey = false }
                if rest.isEmpty && expectKey { throw .malformedPath(text, "ends with '.'") }
                continue
            }
            guard expectKey else { throw .malformedPath(text, "expected '.' or '[' before '\(rest)'") }
            let end = rest.firstIndex(where: { $0 == "." || $0 == "[" }) ?? rest.endIndex
            let key = rest[..<end]
            guard !key.isEmpty else { throw .malformedPath(text, "has an empty key") }
            steps.append(.key(String(key)))
            rest = rest[end...]
            if rest.hasPrefix(".") {
                rest = rest.dropFirst()
                if rest.isEmpty { throw .malformedPath(text, "ends with '.'") }
                expectKey = true
            } else { expectKey = false }
        }
        self.steps = steps
    }
}
