/// A frame's opcode (RFC 6455 §5.2). The others (3–7, B–F) are reserved: a frame with one is a
/// protocol error.
public enum Opcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    /// Control frames (close, ping, pong) may come between the fragments of a message, must be
    /// final and carry at most 125 bytes.
    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// A whole message, as a handler receives or sends it.
public enum WebSocketMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
}

/// A close status code (RFC 6455 §7.4).
public struct CloseCode: RawRepresentable, Sendable, Equatable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let normal = CloseCode(rawValue: 1000)
    /// The server is stopping or reloading (a drain), or the peer stopped answering pings.
    public static let goingAway = CloseCode(rawValue: 1001)
    public static let protocolError = CloseCode(rawValue: 1002)
    public static let unsupportedData = CloseCode(rawValue: 1003)
    /// Text that is not UTF-8.
    public static let invalidPayload = CloseCode(rawValue: 1007)
    public static let policyViolation = CloseCode(rawValue: 1008)
    /// A message over the session's maximum size.
    public static let messageTooBig = CloseCode(rawValue: 1009)
    public static let internalError = CloseCode(rawValue: 1011)

    /// Whether a peer may send this code in a close frame: 1004–1006 and 1015 are reserved for
    /// reporting, never sent; below 1000 and 1016–2999 are not assigned (RFC 6455 §7.4.2).
    public var mayBeSent: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    public var description: String { String(rawValue) }
}
