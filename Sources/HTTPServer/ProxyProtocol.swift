import Glibc

/// The PROXY protocol header (HAProxy's spec, versions 1 and 2) that a load balancer sends before
/// the client's bytes, naming the client it is relaying.
///
/// `parse` looks at the start of a connection's input: it needs more bytes, or it found a header
/// (how long it is, and the source address it names, nil for v2 `LOCAL` or an unknown family),
/// or the bytes are not a PROXY header at all.
public enum ProxyProtocol {
    public enum Result: Equatable {
        case needMore
        case header(length: Int, source: String?)
        case invalid(String)
    }

    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    static let v1Prefix = Array("PROXY ".utf8)
    /// The longest v1 line the spec allows, CRLF included.
    static let v1MaximumLength = 107

    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Result {
        if bytes.isEmpty { return .needMore }
        if bytes[0] == 0x0D {
            let have = min(bytes.count, v2Signature.count)
            guard bytes.prefix(have).elementsEqual(v2Signature.prefix(have)) else { return .invalid("not a PROXY header") }
            return bytes.count < 16 ? .needMore : parseV2(bytes)
        }
        let have = min(bytes.count, v1Prefix.count)
        guard bytes.prefix(have).elementsEqual(v1Prefix.prefix(have)) else { return .invalid("not a PROXY header") }
        return parseV1(bytes)
    }

    /// `PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n` or `PROXY UNKNOWN ...\r\n`.
    static func parseV1(_ bytes: UnsafeRawBufferPointer) -> Result {
        guard let lf = bytes.prefix(v1MaximumLength).firstIndex(of: 0x0A) else {
            return bytes.count >= v1MaximumLength ? .invalid("PROXY v1 line too long") : .needMore
        }
        guard lf > 0, bytes[lf - 1] == 0x0D else { return .invalid("PROXY v1 line must end with CRLF") }
        let line = String(decoding: bytes[..<(lf - 1)], as: UTF8.self)
        let words = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard words.count >= 2, words[0] == "PROXY" else { return .invalid("malformed PROXY v1 line") }
        if words[1] == "UNKNOWN" { return .header(length: lf + 1, source: nil) }
        guard words.count == 6, words[1] == "TCP4" || words[1] == "TCP6" else { return .invalid("malformed PROXY v1 line") }
        let family = words[1] == "TCP4" ? AF_INET : AF_INET6
        var buffer = [UInt8](repeating: 0, count: 16)
        // inet_pton reads a C string: a NUL would end the address early and let the bytes after it through.
        guard !words[2].utf8.contains(0), !words[3].utf8.contains(0),
              inet_pton(family, words[2], &buffer) == 1, inet_pton(family, words[3], &buffer) == 1,
              isPort(words[4]), isPort(words[5]) else { return .invalid("bad address in PROXY v1 line") }
        return .header(length: lf + 1, source: words[2])
    }

    static func isPort(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 5, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let port = Int(text) else { return false }
        return port <= 65535 && !(text.count > 1 && text.hasPrefix("0"))
    }

    /// Signature, version/command, family/protocol, a big-endian length, then the addresses.
    static func parseV2(_ bytes: UnsafeRawBufferPointer) -> Result {
        let versionCommand = bytes[12]
        guard versionCommand >> 4 == 2 else { return .invalid("unsupported PROXY version") }
        let command = versionCommand & 0x0F
        guard command <= 1 else { return .invalid("unknown PROXY v2 command") }
        let length = Int(bytes[14]) << 8 | Int(bytes[15])
        guard bytes.count >= 16 + length else { return .needMore }
        let total = 16 + length
        // LOCAL (health checks from the proxy itself): the connection's own addresses apply.
        if command == 0 { return .header(length: total, source: nil) }
        let family = bytes[13] >> 4
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch family {
        case 1:  // IPv4: source, destination (4 bytes each), ports
            guard length >= 12 else { return .invalid("short PROXY v2 IPv4 block") }
            var address = in_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[16..<20])) }
            guard inet_ntop(AF_INET, &address, &text, socklen_t(text.count)) != nil else { return .invalid("bad PROXY v2 address") }
        case 2:  // IPv6
            guard length >= 36 else { return .invalid("short PROXY v2 IPv6 block") }
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[16..<32])) }
            guard inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil else { return .invalid("bad PROXY v2 address") }
        default:
            return .header(length: total, source: nil)  // UNSPEC or unix: no client address to report
        }
        return .header(length: total, source: String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
