import Foundation
import StampedeModel
import StampedeWire

/// Where a request sends a value the correlator looks at.
enum Place: Equatable {
    /// A path segment, by index in `segments`.
    case segment(Int)
    case query(Int)
    case form(Int)
    /// A JSON string in the body, as its text is escaped there.
    case jsonString(String)
    /// A JSON number in the body, as written.
    case jsonNumber(String)
    /// A header, by index; the value is all of it or the part after an auth scheme.
    case header(Int)
    /// A field of a body the import does not rewrite structurally (multipart): its value's text.
    case bodyText
}

/// One value a request sends, and the field that sends it.
struct Send {
    var place: Place
    /// The form, query or JSON key, or the header's name; empty for a path segment.
    var field: String
    var value: String
    var describe: String
}

/// How a value goes where it is sent: percent-encoded in a URL or form, escaped in JSON, as is in a header.
enum Context { case url, json, plain }

/// A recorded request in the parts the import edits: what it keeps, and where values are sent.
struct RecordedRequest {
    struct RawPair { var name: String; var value: String; var hasEquals: Bool }
    enum Body { case none, form([RawPair]), json(String), text(String) }

    var method: String
    var origin: String
    var segments: [String]
    var query: [RawPair]?
    var headers: [NameValue]
    var body: Body
    var formParams: [NameValue] = []

    /// Headers a browser sends that a load test must not copy: the jar, the connection and the
    /// browser's cache send their own.
    static let dropped: Set<String> = ["cookie", "host", "content-length", "connection", "keep-alive", "proxy-connection", "transfer-encoding",
                                       "upgrade", "te", "if-none-match", "if-modified-since"]
    /// Headers whose values are the browser's constants, never a response's.
    static let constants: Set<String> = ["user-agent", "accept", "accept-language", "accept-encoding", "upgrade-insecure-requests", "origin",
                                         "referer", "cache-control", "pragma", "content-type", "dnt", "priority", "x-requested-with", "purpose"]

    init(_ e: HAREntry, url: RecordedURL) {
        method = e.method.uppercased()
        origin = url.origin
        segments = url.path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        query = url.query.map(Self.pairs)
        headers = e.requestHeaders.compactMap { h in
            let name = h.name.lowercased()
            if name.hasPrefix(":") || Self.dropped.contains(name) { return nil }
            if name == "accept-encoding" {
                // The engine decodes gzip and deflate for captures and checks, not br or zstd.
                let kept = h.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                    .filter { ["gzip", "deflate", "identity"].contains($0.split(separator: ";")[0].lowercased()) }
                return kept.isEmpty ? nil : NameValue(h.name, kept.joined(separator: ", "))
            }
            return h
        }
        let mime = (e.postMimeType ?? e.requestHeader("Content-Type") ?? "").lowercased()
        formParams = e.postParams
        if mime.contains("application/x-www-form-urlencoded") {
            let text = e.postText ?? e.postParams.map { "\(Self.encode($0.name))=\(Self.encode($0.value))" }.joined(separator: "&")
            body = .form(Self.pairs(text))
        } else if let text = e.postText, !text.isEmpty {
            body = mime.contains("json") || JSONValue.parse(Array(text.utf8)) != nil && "{[".contains(text.first ?? " ") ? .json(text) : .text(text)
        } else {
            body = .none
        }
    }

    var url: String {
        origin + segments.joined(separator: "/") + (query.map { "?" + Self.join($0) } ?? "")
    }

    var bodyText: String {
        switch body {
        case .none: return ""
        case .form(let pairs): return Self.join(pairs)
        case .json(let t), .text(let t): return t
        }
    }

    /// Every value this request sends that could have come from a response.
    var sends: [Send] {
        var out: [Send] = []
        for (i, s) in segments.enumerated() where !s.isEmpty {
            let v = Self.decode(s, plusIsSpace: false)
            if Self.looksGeneratedSegment(v) { out.append(Send(place: .segment(i), field: "", value: v, describe: "path segment \(i)")) }
        }
        for (i, p) in (query ?? []).enumerated() {
            let name = Self.decode(p.name)
            out.append(Send(place: .query(i), field: name, value: Self.decode(p.value), describe: "query parameter \(name)"))
        }
        switch body {
        case .form(let pairs):
            for (i, p) in pairs.enumerated() {
                let name = Self.decode(p.name)
                out.append(Send(place: .form(i), field: name, value: Self.decode(p.value), describe: "form field \(name)"))
            }
        case .json(let text):
            if let value = JSONValue.parse(Array(text.utf8)) { Self.jsonLeaves(value, key: "", into: &out) }
        case .text:
            for p in formParams { out.append(Send(place: .bodyText, field: p.name, value: p.value, describe: "body field \(p.name)")) }
        case .none: break
        }
        for (i, h) in headers.enumerated() {
            let name = h.name.lowercased()
            if Self.constants.contains(name) || name.hasPrefix("sec-") { continue }
            var value = h.value
            if name == "authorization" || name == "proxy-authorization", let space = value.firstIndex(of: " ") {
                value = String(value[value.index(after: space)...])
            }
            out.append(Send(place: .header(i), field: name.replacingOccurrences(of: "-", with: "_"), value: value, describe: "header \(h.name)"))
        }
        return out
    }

    /// Puts `template(context)` where `send` sent its value.
    mutating func replace(_ send: Send, with template: (Context) -> String) {
        switch send.place {
        case .segment(let i): segments[i] = template(.url)
        case .query(let i): query?[i].value = template(.url)
        case .form(let i):
            if case .form(var pairs) = body { pairs[i].value = template(.url); pairs[i].hasEquals = true; body = .form(pairs) }
        case .jsonString(let escaped):
            if case .json(let t) = body { body = .json(t.replacingOccurrences(of: "\"\(escaped)\"", with: "\"\(template(.json))\"")) }
        case .jsonNumber(let number):
            if case .json(let t) = body { body = .json(Self.replaceNumber(number, in: t, with: template(.plain))) }
        case .header(let i): headers[i].value = headers[i].value.replacingOccurrences(of: send.value, with: template(.plain))
        case .bodyText:
            if case .text(let t) = body { body = .text(t.replacingOccurrences(of: send.value, with: template(.plain))) }
        }
    }

    private static func jsonLeaves(_ value: JSONValue, key: String, into out: inout [Send]) {
        switch value {
        case .object(let o): for (k, v) in o.sorted(by: { $0.key < $1.key }) { jsonLeaves(v, key: k, into: &out) }
        case .array(let items): for v in items { jsonLeaves(v, key: key, into: &out) }
        case .string(let s):
            out.append(Send(place: .jsonString(jsonEscaped(s)), field: key, value: s, describe: "JSON field \(key)"))
        case .number(let n):
            let text = numberText(n)
            out.append(Send(place: .jsonNumber(text), field: key, value: text, describe: "JSON field \(key)"))
        case .bool, .null: break
        }
    }

    /// A number token in JSON text (not inside a longer number or a string's letters).
    private static func replaceNumber(_ number: String, in text: String, with replacement: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let r = rest.range(of: number) {
            let before = rest[..<r.lowerBound].last(where: { !$0.isWhitespace }) ?? (out.last(where: { !$0.isWhitespace }) ?? " ")
            let after = rest[r.upperBound...].first(where: { !$0.isWhitespace }) ?? " "
            out += rest[..<r.lowerBound]
            out += ":[,".contains(before) && ",]}".contains(after) ? replacement : String(rest[r])
            rest = rest[r.upperBound...]
        }
        return out + rest
    }

    /// A path segment worth looking for: long enough and with a digit, or long and token-like.
    static func looksGeneratedSegment(_ s: String) -> Bool {
        s.count >= 4 && (s.contains(where: \.isNumber) || s.count >= 16 && !s.contains("."))
    }

    /// A string escaped as JavaScript's JSON.stringify writes it (what a page's script sent).
    static func jsonEscaped(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    static func pairs(_ text: String) -> [RawPair] {
        text.split(separator: "&", omittingEmptySubsequences: true).map { part in
            if let eq = part.firstIndex(of: "=") {
                return RawPair(name: String(part[..<eq]), value: String(part[part.index(after: eq)...]), hasEquals: true)
            }
            return RawPair(name: String(part), value: "", hasEquals: false)
        }
    }

    static func join(_ pairs: [RawPair]) -> String {
        pairs.map { $0.hasEquals ? "\($0.name)=\($0.value)" : $0.name }.joined(separator: "&")
    }

    static func decode(_ s: String, plusIsSpace: Bool = true) -> String {
        let t = plusIsSpace ? s.replacingOccurrences(of: "+", with: " ") : s
        return t.removingPercentEncoding ?? t
    }

    /// Percent-encoded as the `|url` filter writes it (RFC 3986's unreserved characters stay).
    static func encode(_ s: String) -> String { Template.filtered(s, .url) }

    /// A JSON number's text as JSON writes it: an integer without a fraction, else the double.
    static func numberText(_ n: Double) -> String {
        n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    }
}
