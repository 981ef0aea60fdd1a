import Foundation
import Sessions
import StampedeWire

/// Why a file cannot be read as a recording at all (an entry that cannot be imported is listed
/// instead, see `HARFile.unreadable`).
public struct HARError: Error, Equatable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A name and a value, in the order the recording has them (headers, query, form fields).
public struct NameValue: Equatable, Sendable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) { self.name = name; self.value = value }
}

/// One HAR 1.2 entry, as much of it as an import reads.
public struct HAREntry: Sendable {
    /// Its place in the file's `log.entries`, for every message about it.
    public var index: Int
    /// `startedDateTime`, in milliseconds since 1970.
    public var startedMs: Double
    /// `time`: the whole exchange, in milliseconds.
    public var timeMs: Double
    public var method: String
    public var url: String
    public var requestHeaders: [NameValue]
    public var postMimeType: String?
    public var postText: String?
    public var postParams: [NameValue]
    public var status: Int
    public var responseHeaders: [NameValue]
    public var mimeType: String
    /// The response body as text (base64 and gzip undone), nil when the recording has none.
    public var responseText: String?
    /// Why the body is not searched, when the recording holds it in a form an import cannot read.
    public var bodyProblem: String?
    /// Chromium's and Playwright's `_resourceType` (document, stylesheet, script, xhr, fetch ...).
    public var resourceType: String?
    /// The browser answered it from its own cache.
    public var fromCache: Bool

    public func requestHeader(_ name: String) -> String? {
        requestHeaders.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    public func responseHeader(_ name: String) -> String? {
        responseHeaders.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// A recording: its entries in time order, and the entries that could not be read (by index).
public struct HARFile: Sendable {
    public var entries: [HAREntry]
    public var unreadable: [(index: Int, reason: String)]

    /// - Throws: `HARError` when the bytes are not JSON (with line and column) or not a HAR.
    public init(bytes: [UInt8]) throws(HARError) {
        guard let root = JSONValue.parse(bytes) else { throw HARError(JSONValue.syntaxProblem(bytes)) }
        guard case .object(let top) = root else { throw HARError("not a HAR: the top level is \(root.kind), not an object with `log`") }
        guard case .object(let log)? = top["log"] else { throw HARError("not a HAR: no `log` object") }
        guard case .array(let items)? = log["entries"] else { throw HARError("not a HAR: no `log.entries` array") }
        var entries: [HAREntry] = []
        var unreadable: [(Int, String)] = []
        for (k, item) in items.enumerated() {
            do { entries.append(try Self.entry(item, index: k)) } catch { unreadable.append((k, error.reason)) }
        }
        // Time order; the file's order breaks ties (a redirect and its follow-up can share a millisecond).
        self.entries = entries.enumerated().sorted { ($0.element.startedMs, $0.offset) < ($1.element.startedMs, $1.offset) }.map(\.element)
        self.unreadable = unreadable
    }

    private static func entry(_ item: JSONValue, index: Int) throws(HARError) -> HAREntry {
        guard case .object(let e) = item else { throw HARError("is \(item.kind), not an object") }
        guard case .object(let request)? = e["request"] else { throw HARError("has no `request`") }
        guard case .string(let method)? = request["method"], !method.isEmpty else { throw HARError("has no `request.method`") }
        guard case .string(let url)? = request["url"], !url.isEmpty else { throw HARError("has no `request.url`") }
        var started = 0.0
        if case .string(let text)? = e["startedDateTime"] {
            guard let date = parseDate(text) else { throw HARError("`startedDateTime` '\(text)' is not an ISO 8601 time") }
            started = date.timeIntervalSince1970 * 1000
        }
        var time = 0.0
        if case .number(let t)? = e["time"] { time = max(0, t) }
        var postMime: String?, postText: String?, params: [NameValue] = []
        if case .object(let post)? = request["postData"] {
            if case .string(let m)? = post["mimeType"] { postMime = m }
            if case .string(let t)? = post["text"] { postText = t }
            params = pairs(post["params"])
            if case .string(let enc)? = post["encoding"], !enc.isEmpty {
                guard enc == "base64", let t = postText, let data = Data(base64Encoded: t), let decoded = String(data: data, encoding: .utf8) else {
                    throw HARError("request body encoding '\(enc)' is not supported (base64 of UTF-8 text is)")
                }
                postText = decoded
            }
        }
        var status = 0, responseHeaders: [NameValue] = [], mime = ""
        var text: String?, problem: String?
        if case .object(let response)? = e["response"] {
            if case .number(let s)? = response["status"] { status = Int(s) }
            responseHeaders = pairs(response["headers"])
            if case .object(let content)? = response["content"] {
                if case .string(let m)? = content["mimeType"] { mime = m }
                (text, problem) = body(content, headers: responseHeaders)
            }
        }
        var resourceType: String?
        if case .string(let r)? = e["_resourceType"] { resourceType = r.lowercased() }
        var fromCache = false
        // Chromium's mark ("memory", "disk"); HAR's `cache` object describes an entry, not that it answered.
        if case .string(let c)? = e["_fromCache"], !c.isEmpty { fromCache = true }
        return HAREntry(index: index, startedMs: started, timeMs: time, method: method, url: url, requestHeaders: pairs(request["headers"]),
                        postMimeType: postMime, postText: postText, postParams: params, status: status, responseHeaders: responseHeaders,
                        mimeType: mime, responseText: text, bodyProblem: problem, resourceType: resourceType, fromCache: fromCache)
    }

    /// A response body as text: base64 undone, then gzip or deflate when the bytes still are.
    private static func body(_ content: [String: JSONValue], headers: [NameValue]) -> (String?, String?) {
        guard case .string(let raw)? = content["text"] else { return (nil, nil) }
        var bytes = Array(raw.utf8)
        if case .string(let enc)? = content["encoding"], !enc.isEmpty {
            guard enc == "base64", let data = Data(base64Encoded: raw) else { return (nil, "body encoding '\(enc)' is not supported (base64 is)") }
            bytes = Array(data)
        }
        let coding = headers.first { $0.name.lowercased() == "content-encoding" }?.value.lowercased() ?? ""
        let gzipped = bytes.count > 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
        if gzipped || coding.contains("deflate") && String(validating: bytes, as: UTF8.self) == nil {
            guard let decoded = Gunzip.decode(bytes, limit: 64 << 20) else { return (nil, "body is \(coding.isEmpty ? "gzip" : coding)-encoded and does not decode") }
            bytes = decoded
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            if coding.contains("br") || coding.contains("zstd") {
                return (nil, "body is \(coding)-encoded in the recording (\(coding) is not decoded; gzip and deflate are)")
            }
            return (nil, nil)  // binary content (an image): nothing to search
        }
        return (text, nil)
    }

    private static func pairs(_ value: JSONValue?) -> [NameValue] {
        guard case .array(let items)? = value else { return [] }
        return items.compactMap { item in
            guard case .object(let o) = item, case .string(let name)? = o["name"] else { return nil }
            if case .string(let v)? = o["value"] { return NameValue(name, v) }
            return NameValue(name, "")
        }
    }

    private static func parseDate(_ text: String) -> Date? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)
    }
}
