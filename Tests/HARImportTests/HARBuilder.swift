import Foundation
import HARImport

/// HAR 1.2 documents for the in-memory tests, shaped as Chromium writes them.
struct HAR {
    var entries: [[String: Any]] = []

    @discardableResult
    mutating func add(_ method: String, _ url: String, at ms: Double, time: Double = 10, status: Int = 200,
                      headers: [(String, String)] = [], post: (mime: String, text: String)? = nil,
                      responseHeaders: [(String, String)] = [], mime: String = "text/html", body: String? = nil,
                      type: String? = nil) -> HAR {
        var request: [String: Any] = ["method": method, "url": url, "httpVersion": "HTTP/1.1",
                                      "headers": headers.map { ["name": $0.0, "value": $0.1] }, "queryString": [], "cookies": []]
        if let post { request["postData"] = ["mimeType": post.mime, "text": post.text] }
        var content: [String: Any] = ["mimeType": mime, "size": body?.utf8.count ?? 0]
        if let body { content["text"] = body }
        var e: [String: Any] = ["startedDateTime": Self.iso(ms), "time": time, "request": request,
                                "response": ["status": status, "statusText": "", "httpVersion": "HTTP/1.1",
                                             "headers": responseHeaders.map { ["name": $0.0, "value": $0.1] }, "content": content,
                                             "redirectURL": ""],
                                "cache": [:], "timings": ["send": 0, "wait": time, "receive": 0]]
        if let type { e["_resourceType"] = type }
        entries.append(e)
        return self
    }

    /// A GET.
    mutating func add(_ url: String, at ms: Double, time: Double = 10, status: Int = 200, headers: [(String, String)] = [],
                      responseHeaders: [(String, String)] = [], mime: String = "text/html", body: String? = nil, type: String? = nil) {
        add("GET", url, at: ms, time: time, status: status, headers: headers, responseHeaders: responseHeaders, mime: mime, body: body, type: type)
    }

    var bytes: [UInt8] {
        let doc: [String: Any] = ["log": ["version": "1.2", "creator": ["name": "test", "version": "1"], "pages": [], "entries": entries]]
        return Array(try! JSONSerialization.data(withJSONObject: doc))
    }

    func imported(_ options: ImportOptions = ImportOptions()) throws -> ImportResult {
        HARImporter.run(try HARFile(bytes: bytes), options: options)
    }

    static func iso(_ ms: Double) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: 1_800_000_000 + ms / 1000))
    }
}
