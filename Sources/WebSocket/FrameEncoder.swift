/// Encodes frame headers (RFC 6455 §5.2). A server's frames are not masked; the mask is for tests
/// and clients, which must mask theirs.
public enum FrameEncoder {
    /// The header of a frame carrying `length` bytes: 2 to 14 bytes.
    public static func header(_ opcode: Opcode, length: Int, fin: Bool = true, mask: (UInt8, UInt8, UInt8, UInt8)? = nil) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(14)
        out.append((fin ? 0x80 : 0) | opcode.rawValue)
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        switch length {
        case 0...125:
            out.append(maskBit | UInt8(length))
        case 126...0xFFFF:
            out.append(maskBit | 126)
            out.append(UInt8(truncatingIfNeeded: length >> 8))
            out.append(UInt8(truncatingIfNeeded: length))
        default:
            out.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: UInt64(length) >> UInt64(shift))) }
        }
        if let mask { out += [mask.0, mask.1, mask.2, mask.3] }
        return out
    }

    /// A whole frame: header, then the payload (masked with `mask`, if given).
    public static func frame(_ opcode: Opcode, _ payload: [UInt8], fin: Bool = true, mask: (UInt8, UInt8, UInt8, UInt8)? = nil) -> [UInt8] {
        var out = header(opcode, length: payload.count, fin: fin, mask: mask)
        guard let mask else { return out + payload }
        let key = [mask.0, mask.1, mask.2, mask.3]
        for (index, byte) in payload.enumerated() { out.append(byte ^ key[index & 3]) }
        return out
    }

    /// A close frame's payload: the code, big-endian, then the reason (cut to fit 125 bytes).
    public static func closePayload(_ code: CloseCode, reason: String) -> [UInt8] {
        [UInt8(code.rawValue >> 8), UInt8(truncatingIfNeeded: code.rawValue)] + truncated(Array(reason.utf8), to: 123)
    }

    /// `bytes` cut to at most `limit`, never inside a code point.
    private static func truncated(_ bytes: [UInt8], to limit: Int) -> [UInt8] {
        guard bytes.count > limit else { return bytes }
        var end = limit
        while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return Array(bytes[..<end])
    }

    /// The `Sec-WebSocket-Accept` value for a client's `Sec-WebSocket-Key` (RFC 6455 §4.2.2):
    /// base64 of the SHA-1 of the key and the protocol's GUID.
    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(SHA1.digest(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)))
    }
}
