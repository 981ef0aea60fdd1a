/// An HTTP request method, typed: compared as a value, never as text on the request path.
public enum HTTPMethod: Hashable, Sendable, CustomStringConvertible {
    case get, head, post, put, delete, options, trace, patch, connect
    /// Any other token (an extension method).
    case other(String)

    public init(_ name: String) {
        switch name {
        case "GET": self = .get
        case "HEAD": self = .head
        case "POST": self = .post
        case "PUT": self = .put
        case "DELETE": self = .delete
        case "OPTIONS": self = .options
        case "TRACE": self = .trace
        case "PATCH": self = .patch
        case "CONNECT": self = .connect
        default: self = .other(name)
        }
    }

    public var description: String {
        switch self {
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .put: "PUT"
        case .delete: "DELETE"
        case .options: "OPTIONS"
        case .trace: "TRACE"
        case .patch: "PATCH"
        case .connect: "CONNECT"
        case .other(let name): name
        }
    }

    /// RFC 9110 9.2.2: may be sent again after a connection closed under it.
    public var isIdempotent: Bool {
        switch self {
        case .get, .head, .options, .trace, .put, .delete: true
        case .post, .patch, .connect, .other: false
        }
    }
}

/// Following a redirect as a browser does, as pure functions (after async-http-client's
/// `RedirectState`): whether a response redirects, where to, and what the next request is.
public enum Redirect {
    /// Where a `Location` leads, from the request that got it.
    public enum Target: Equatable, Sendable {
        /// The same origin: the path and query to request.
        case sameOrigin(pathAndQuery: String)
        /// An absolute URL (scheme-relative ones made absolute with the request's scheme).
        case absolute(TargetURL)
    }

    /// The next hop's method and whether it keeps the request's body and the headers that
    /// describe it.
    public struct NextRequest: Equatable, Sendable {
        public let method: HTTPMethod
        public let keepsBody: Bool
    }

    /// 301, 302, 303, 307 and 308 redirect (with a `Location`); other 3xx are responses.
    public static func isRedirect(status: Int) -> Bool {
        switch status {
        case 301, 302, 303, 307, 308: true
        default: false
        }
    }

    /// RFC 9110 15.4: 303 becomes GET (but HEAD stays HEAD); 301 and 302 after a POST become GET,
    /// as every browser does; 307 and 308 repeat the method and the body.
    public static func nextRequest(status: Int, method: HTTPMethod) -> NextRequest {
        let becomesGet = status == 303 ? method != .head : (status == 301 || status == 302) && method == .post
        return becomesGet ? NextRequest(method: .get, keepsBody: false) : NextRequest(method: method, keepsBody: true)
    }

    /// Where `location` leads from a request for `requestTarget` (its path and query) over
    /// `scheme`: an absolute or scheme-relative URL, an absolute path, or a path relative to
    /// the request's directory (or, starting with `?`, to its path). The fragment is dropped.
    /// Nil: empty, not printable ASCII, or not a URL that parses.
    public static func target(of location: String, requestTarget: String, scheme: TargetURL.Scheme) -> Target? {
        var text = location
        if let hash = text.firstIndex(of: "#") { text = String(text[..<hash]) }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) else { return nil }
        if text.hasPrefix("//") { text = "\(scheme.rawValue):\(text)" }
        if text.contains("://") {
            guard let url = try? TargetURL(parsing: text) else { return nil }
            return .absolute(url)
        }
        if text.hasPrefix("/") { return .sameOrigin(pathAndQuery: text) }
        var base = requestTarget
        if let q = base.firstIndex(of: "?") { base = String(base[..<q]) }
        if text.hasPrefix("?") { return .sameOrigin(pathAndQuery: base + text) }
        let directory = base.lastIndex(of: "/").map { String(base[...$0]) } ?? "/"
        return .sameOrigin(pathAndQuery: directory + text)
    }
}
