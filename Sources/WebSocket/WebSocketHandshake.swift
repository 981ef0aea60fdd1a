import COpenSSL
import Foundation
import HTTP1

/// The server side of the opening handshake (RFC 6455 §4.2).
public enum WebSocketHandshake {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Whether the request asks for a WebSocket upgrade at all.
    public static func isUpgrade(_ request: HTTPRequest) -> Bool {
        request.header("upgrade")?.lowercased().split(separator: ",").contains { $0.trimmingSpaces() == "websocket" } ?? false
    }

    /// The 101 response for a valid upgrade request.
    /// - Throws: `WebSocketHandshakeError` saying which header is wrong (answer 400 or 426).
    public static func accept(_ request: HTTPRequest) throws(WebSocketHandshakeError) -> HTTPResponse {
        guard request.method == "GET" else { throw .init(status: 400, reason: "WebSocket upgrade needs GET") }
        guard isUpgrade(request) else { throw .init(status: 426, reason: "Upgrade: websocket required") }
        let connection = request.header("connection")?.lowercased() ?? ""
        guard connection.split(separator: ",").contains(where: { $0.trimmingSpaces() == "upgrade" }) else {
            throw .init(status: 400, reason: "Connection: Upgrade required")
        }
        guard request.header("sec-websocket-version") == "13" else {
            throw .init(status: 426, reason: "Sec-WebSocket-Version must be 13")
        }
        guard let key = request.header("sec-websocket-key"), let raw = Data(base64Encoded: key), raw.count == 16 else {
            throw .init(status: 400, reason: "Sec-WebSocket-Key must be 16 bytes, base64")
        }
        return HTTPResponse(status: 101, headers: [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                                   ("Sec-WebSocket-Accept", acceptValue(for: key))])
    }

    /// base64(SHA-1(key + GUID)).
    public static func acceptValue(for key: String) -> String {
        let input = Array((key + guid).utf8)
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = EVP_Digest(input, input.count, &digest, &length, EVP_sha1(), nil)
        return Data(digest.prefix(Int(length))).base64EncodedString()
    }
}

public struct WebSocketHandshakeError: Error, Equatable, CustomStringConvertible {
    public let status: Int
    public let reason: String
    public var description: String { reason }
}
