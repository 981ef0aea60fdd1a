/// Encodes a request a load test repeats. Built once; every connection writes the same bytes
/// (requests with templates are assembled from the same pieces per request: `RequestProgram`).
public enum HTTPRequestEncoder {
    /// - Parameters:
    ///   - headers: extra headers as ("Name", "value"); a given Host or User-Agent replaces ours.
    /// - Throws: `HeaderError` for a header name or value that would break the message (CR, LF,
    ///   a colon or space in the name).
    public static func encode(method: String, url: TargetURL, headers: [(String, String)] = [],
                              body: [UInt8] = []) throws(HeaderError) -> [UInt8] {
        guard !method.isEmpty, method.utf8.allSatisfy({ HTTPBytes.isToken($0) }) else {
            throw HeaderError(header: method, reason: "method must be an HTTP token (e.g. GET, POST)")
        }
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.allSatisfy({ HTTPBytes.isToken($0) }) else {
                throw HeaderError(header: name, reason: "header name must be an HTTP token")
            }
            guard !value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else {
                throw HeaderError(header: name, reason: "header value must not contain CR, LF or NUL")
            }
        }
        var text = "\(method) \(url.pathAndQuery) HTTP/1.1\r\n"
        text += defaultHeaders(given: headers.map(\.0), hostHeader: url.hostHeader)
        for (name, value) in headers where name.lowercased() != "content-length" {
            text += "\(name): \(value)\r\n"
        }
        if needsContentLength(method: method, bodyCount: body.count) {
            text += "Content-Length: \(body.count)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8) + body
    }

    /// Host, User-Agent and Accept lines, each unless the caller gives its own.
    public static func defaultHeaders(given names: [String], hostHeader: String) -> String {
        let given = Set(names.map { $0.lowercased() })
        var text = ""
        if !given.contains("host") { text += "Host: \(hostHeader)\r\n" }
        if !given.contains("user-agent") { text += "User-Agent: stampede\r\n" }
        if !given.contains("accept") { text += "Accept: */*\r\n" }
        return text
    }

    /// A body, or a method whose requests carry one, gets a Content-Length (we set it; a given one is dropped).
    public static func needsContentLength(method: String, bodyCount: Int) -> Bool {
        bodyCount > 0 || ["POST", "PUT", "PATCH"].contains(method)
    }
}

public struct HeaderError: Error, Equatable, CustomStringConvertible {
    public let header: String
    public let reason: String
    public var description: String { "invalid header '\(header)': \(reason)" }
}
