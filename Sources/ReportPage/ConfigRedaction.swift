import Foundation

/// What the report's Config section may show: the test as given, but header values that are
/// credentials (`Authorization`, `Cookie`, API keys, tokens) as `***`, and CSV data as its rows and
/// columns only (it often holds passwords and session ids). A report is shared; the config it
/// came from stays with the orchestrator (test.json, readable by its owner only).
enum ConfigRedaction {
    static func redacted(_ json: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)),
              let pretty = try? JSONSerialization.data(withJSONObject: redact(object, key: nil),
                                                       options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else {
            return "(the config could not be read, so it is not shown)"
        }
        return String(decoding: pretty, as: UTF8.self)
    }

    /// Header names whose values are secrets (any case).
    static func isSecret(header name: String) -> Bool {
        let n = name.lowercased()
        return ["authorization", "proxy-authorization", "cookie", "set-cookie"].contains(n)
            || ["api-key", "api_key", "apikey", "token", "secret", "password"].contains { n.contains($0) }
    }

    private static func redact(_ value: Any, key: String?) -> Any {
        switch value {
        case let object as [String: Any]:
            var out: [String: Any] = [:]
            for (k, v) in object {
                if key == "headers", v is String, isSecret(header: k) {
                    out[k] = "***"
                } else if key == "data", k == "csv", let csv = v as? String {
                    out[k] = summary(csv: csv)
                } else {
                    out[k] = redact(v, key: k)
                }
            }
            return out
        case let array as [Any]: return array.map { redact($0, key: key) }
        default: return value
        }
    }

    /// "3 rows; columns: user, password" (the header line is the columns).
    private static func summary(csv: String) -> String {
        let lines = csv.split(whereSeparator: \.isNewline).filter { !$0.isEmpty }
        let columns = lines.first.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        return "\(Swift.max(0, lines.count - 1)) rows; columns: \(columns.joined(separator: ", ")) (values not shown)"
    }
}
