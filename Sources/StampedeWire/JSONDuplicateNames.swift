/// Finds a name given twice in one JSON object. Foundation's decoder keeps one of the two without
/// a word (`{"duration_s": 1, "duration_s": "x"}` was a 1 s test), and RFC 8259 §4 leaves the
/// outcome to the parser: a test definition refuses it instead, naming the field.
enum JSONDuplicateNames {
    private struct Frame {
        let isObject: Bool
        let path: String
        var names: Set<[UInt8]> = []
        var expectName = true
        var name = ""
        var index = 0
    }

    /// The first duplicated name as a field path (`requests[0].headers.X`), or nil. Expects valid
    /// JSON (it is called after parsing succeeded); linear in the input. Names are compared as
    /// written (an escaped spelling of the same name is not caught).
    static func first(in bytes: [UInt8]) -> String? {
        var stack: [Frame] = []
        var i = 0
        func childPath() -> String {
            guard let top = stack.last else { return "" }
            if top.isObject { return top.path.isEmpty ? top.name : "\(top.path).\(top.name)" }
            return "\(top.path)[\(top.index)]"
        }
        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "{"): stack.append(Frame(isObject: true, path: childPath()))
            case UInt8(ascii: "["): stack.append(Frame(isObject: false, path: childPath()))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","):
                if stack.last?.isObject == true { stack[stack.count - 1].expectName = true } else if !stack.isEmpty { stack[stack.count - 1].index += 1 }
            case UInt8(ascii: "\""):
                let start = i + 1
                i += 1
                while i < bytes.count && bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                if let top = stack.last, top.isObject, top.expectName {
                    let name = Array(bytes[start..<Swift.min(i, bytes.count)])
                    let text = String(decoding: name, as: UTF8.self)
                    if stack[stack.count - 1].names.insert(name).inserted == false {
                        return top.path.isEmpty ? text : "\(top.path).\(text)"
                    }
                    stack[stack.count - 1].name = text
                    stack[stack.count - 1].expectName = false
                }
            default: break
            }
            i += 1
        }
        return nil
    }
}
