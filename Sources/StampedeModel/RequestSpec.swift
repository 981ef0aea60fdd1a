import HTTP1


/// One request of a test: a `requests` entry, or the single target of the short form.
public struct RequestSpec: Sendable {
    /// The name results are reported under; nil: "METHOD path" (see `displayName`).
    public var name: String?
    public var method: String = "GET"
    /// The URL, templates allowed in its path and query (the origin must be literal).
    public var url: String
    public var headers: [(String, String)] = []
    /// Templates apply when the body is UTF-8 text with a `{{`.
    public var body: [UInt8] = []
    /// Relative share of the random mix (> 0).
    public var weight: Double = 1
    /// Statuses that pass the check; empty: any.
    public var expectStatus: [StatusPattern] = []
    /// A substring the body must contain.
    public var expectBody: String?
    /// Values taken from the response for later requests of the session (`capture`).
    public var captures: [CaptureRule] = []
    /// The pause after this request's response before the session's next request (`think_ms`).
    public var thinkTime: ThinkTime?

    public init(url: String) { self.url = url }

    /// The name results are reported under.
    public var displayName: String {
        if let name { return name }
        let afterScheme = url.range(of: "://").map { url[$0.upperBound...] } ?? Substring(url)
        let path = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }).map { String(afterScheme[$0...]) } ?? "/"
        return "\(method) \(path.hasPrefix("?") ? "/" + path : path)"
    }

    /// Methods that may be resent after a stale keep-alive close (RFC 9110 §9.2.2).
    public var isIdempotent: Bool { ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"].contains(method) }
}

/// An `expect_status` entry: one status (`404`) or a class (`"2xx"`).
public enum StatusPattern: Sendable, Equatable, CustomStringConvertible {
    case code(Int)
    case range(Int)

    /// Parses `200`, `"200"` or `"2xx"`.
    public init?(_ text: String) {
        let t = text.lowercased()
        if t.count == 3, t.hasSuffix("xx"), let c = Int(t.prefix(1)), (1...5).contains(c) { self = .range(c); return }
        guard let code = Int(t), (100...599).contains(code) else { return nil }
        self = .code(code)
    }

    public func matches(_ status: Int) -> Bool {
        switch self {
        case .code(let c): return status == c
        case .range(let c): return status / 100 == c
        }
    }

    public var description: String {
        switch self {
        case .code(let c): return String(c)
        case .range(let c): return "\(c)xx"
        }
    }
}

/// How the next request of a connection is chosen.
public enum RequestOrder: String, Sendable, Codable, CaseIterable {
    /// At random, in proportion to the weights (seeded).
    case random
    /// The listed order, round-robin per connection (a user journey).
    case sequence
}

/// A request with its templates parsed and its URL checked: what the load generator encodes.
public struct CompiledRequest: Sendable {
    public let spec: RequestSpec
    /// Scheme, host and port (and the path, rendered with sample values): a test's requests may
    /// go to several origins.
    public let origin: TargetURL
    /// Path and query.
    public let path: Template
    public let headers: [(String, Template)]
    public let body: Template
    /// Where each of `spec.captures` stores its value: an index into the workload's variables.
    public let captureSlots: [Int]
    /// `expect_body` with its fields (`{{row.user}}`), rendered with the request's own values.
    public let expect: Template?

    /// Whether any part renders a data row (`{{row.COLUMN}}`).
    public var usesRows: Bool {
        ([path, body] + headers.map(\.1) + (expect.map { [$0] } ?? [])).contains { t in
            t.parts.contains { if case .row = $0 { return true } else { return false } }
        }
    }
}
