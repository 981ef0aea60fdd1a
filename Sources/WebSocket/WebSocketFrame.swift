/// RFC 6455 opcodes.
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA

    var isControl: Bool { rawValue & 0x8 != 0 }
}

/// What a received frame sequence amounts to.
public enum WebSocketEvent: Equatable, Sendable {
    /// A whole (reassembled) message; text messages are valid UTF-8.
    case text(String)
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    /// The peer's close frame: its code (nil when it sent none) and reason.
    case close(code: UInt16?, reason: String)
}

/// A protocol violation, with the close code RFC 6455 prescribes for it.
public enum WebSocketError: Error, Equatable, CustomStringConvertible {
    /// 1002: bad framing, unmasked client frame, bad opcode, fragmented control frame, ...
    case protocolError(String)
    /// 1007: a text message or close reason that is not UTF-8.
    case invalidPayload(String)
    /// 1009: a frame or message over the limit.
    case tooBig(limit: Int)

    public var closeCode: UInt16 {
        switch self {
        case .protocolError: return 1002
        case .invalidPayload: return 1007
        case .tooBig: return 1009
        }
    }

    public var description: String {
        switch self {
        case .protocolError(let why): return "protocol error: \(why)"
        case .invalidPayload(let why): return "invalid payload: \(why)"
        case .tooBig(let limit): return "message larger than \(limit) bytes"
        }
    }
}

/// Encodes frames. Servers send unmasked frames (RFC 6455 §5.1); `mask` is for clients and tests.
public enum WebSocketFrameEncoder {
    public static func encode(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, mask: [UInt8]? = nil) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | opcode.rawValue]
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        if payload.count < 126 {
            out.append(maskBit | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            out.append(maskBit | 126)
            out += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8((UInt64(payload.count) >> UInt64(shift)) & 0xFF)) }
        }
        if let mask {
            out += mask
            out += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        } else {
            out += payload
        }
        return out
    }

    /// A close frame with `code` and `reason`.
    public static func close(code: UInt16, reason: String = "") -> [UInt8] {
        encode(.close, [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8.prefix(123)))
    }
}

/// Parses client frames out of a receive buffer and reassembles fragmented messages, enforcing
/// RFC 6455: masking required, no RSV bits (no extensions), control frames unfragmented and at
/// most 125 bytes, continuation only inside a fragmented message, UTF-8 text, valid close codes,
/// and size limits.
public struct WebSocketParser: Sendable {
    public let maxFrameBytes: Int
    public let maxMessageBytes: Int
    private var fragments: [UInt8] = []
    private var fragmentOpcode: WebSocketOpcode?

    public init(maxFrameBytes: Int = 1 << 20, maxMessageBytes: Int = 1 << 20) {
        self.maxFrameBytes = maxFrameBytes
        self.maxMessageBytes = maxMessageBytes
    }

    /// Removes complete frames from the front of `buffer` until one yields an event; nil when more
    /// bytes are needed.
    /// - Throws: `WebSocketError`; answer with a close frame of its `closeCode` and close.
    public mutating func next(_ buffer: inout [UInt8]) throws(WebSocketError) -> WebSocketEvent? {
        while true {
            guard let (fin, opcode, payload, used) = try frame(in: buffer) else { return nil }
            buffer.removeFirst(used)
            if let event = try assemble(fin: fin, opcode: opcode, payload: payload) { return event }
        }
    }

    private func frame(in b: [UInt8]) throws(WebSocketError) -> (Bool, WebSocketOpcode, [UInt8], Int)? {
        guard b.count >= 2 else { return nil }
        let fin = b[0] & 0x80 != 0
        guard b[0] & 0x70 == 0 else { throw .protocolError("reserved bits set without an extension") }
        guard let opcode = WebSocketOpcode(rawValue: b[0] & 0x0F) else { throw .protocolError("unknown opcode \(b[0] & 0x0F)") }
        guard b[1] & 0x80 != 0 else { throw .protocolError("client frames must be masked") }
        var length = Int(b[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard b.count >= 4 else { return nil }
            length = Int(b[2]) << 8 | Int(b[3])
            offset = 4
        } else if length == 127 {
            guard b.count >= 10 else { return nil }
            guard b[2] & 0x80 == 0 else { throw .protocolError("64-bit length with the high bit set") }
            var l: UInt64 = 0
            for i in 2..<10 { l = l << 8 | UInt64(b[i]) }
            guard l <= UInt64(maxFrameBytes) else { throw .tooBig(limit: maxFrameBytes) }
            length = Int(l)
            offset = 10
        }
        if opcode.isControl {
            guard fin else { throw .protocolError("fragmented control frame") }
            guard length <= 125 else { throw .protocolError("control frame payload over 125 bytes") }
        }
        guard length <= maxFrameBytes else { throw .tooBig(limit: maxFrameBytes) }
        guard b.count >= offset + 4 + length else { return nil }
        let mask = Array(b[offset..<(offset + 4)])
        offset += 4
        var payload = Array(b[offset..<(offset + length)])
        for i in payload.indices { payload[i] ^= mask[i & 3] }
        return (fin, opcode, payload, offset + length)
    }

    private mutating func assemble(fin: Bool, opcode: WebSocketOpcode, payload: [UInt8]) throws(WebSocketError) -> WebSocketEvent? {
        switch opcode {
        case .ping: return .ping(payload)
        case .pong: return .pong(payload)
        case .close: return try Self.closeEvent(payload)
        case .text, .binary:
            guard fragmentOpcode == nil else { throw .protocolError("new message before the fragmented one ended") }
            if fin { return try Self.message(opcode, payload, limit: maxMessageBytes) }
            guard payload.count <= maxMessageBytes else { throw .tooBig(limit: maxMessageBytes) }
            fragmentOpcode = opcode
            fragments = payload
            return nil
        case .continuation:
            guard let first = fragmentOpcode else { throw .protocolError("continuation frame without a message to continue") }
            guard fragments.count + payload.count <= maxMessageBytes else { throw .tooBig(limit: maxMessageBytes) }
            fragments += payload
            guard fin else { return nil }
            let whole = fragments
            fragments = []
            fragmentOpcode = nil
            return try Self.message(first, whole, limit: maxMessageBytes)
        }
    }

    private static func message(_ opcode: WebSocketOpcode, _ payload: [UInt8], limit: Int) throws(WebSocketError) -> WebSocketEvent {
        guard payload.count <= limit else { throw .tooBig(limit: limit) }
        if opcode == .binary { return .binary(payload) }
        guard let text = String(validating: payload, as: UTF8.self) else { throw .invalidPayload("text message is not UTF-8") }
        return .text(text)
    }

    private static func closeEvent(_ payload: [UInt8]) throws(WebSocketError) -> WebSocketEvent {
        if payload.isEmpty { return .close(code: nil, reason: "") }
        guard payload.count >= 2 else { throw .protocolError("close payload of 1 byte") }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard isValidCloseCode(code) else { throw .protocolError("invalid close code \(code)") }
        guard let reason = String(validating: payload.dropFirst(2), as: UTF8.self) else {
            throw .invalidPayload("close reason is not UTF-8")
        }
        return .close(code: code, reason: reason)
    }

    /// Codes a peer may send (RFC 6455 §7.4 and the IANA registry): 1000–1003, 1007–1014, 3000–4999.
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }
}
