import Glibc

/// An IP address range in CIDR form (`127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`), or `*` for any
/// address: the peers whose `X-Forwarded-*` headers are believed.
public struct AddressRange: Equatable, Sendable, CustomStringConvertible {
    /// 4 or 16 bytes; empty for `*`.
    let network: [UInt8]
    let prefixLength: Int
    public let description: String

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    public static let loopbackV4 = AddressRange(network: [127, 0, 0, 1], prefixLength: 32, description: "127.0.0.1")
    public static let loopbackV6 = AddressRange(network: Array(repeating: 0, count: 15) + [1], prefixLength: 128, description: "::1")

    init(network: [UInt8], prefixLength: Int, description: String) {
        self.network = network
        self.prefixLength = prefixLength
        self.description = description
    }

    public init(parsing text: String) throws(ParseError) {
        description = text
        if text == "*" {
            network = []
            prefixLength = 0
            return
        }
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = Self.bytes(of: String(parts[0])) else { throw ParseError(description: "'\(text)' is not an IP address or CIDR range") }
        var length = bytes.count * 8
        if parts.count == 2 {
            guard let given = Int(parts[1]), parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), (0...length).contains(given) else {
                throw ParseError(description: "'\(text)' has a bad prefix length")
            }
            length = given
        }
        network = bytes
        prefixLength = length
    }

    /// The address's bytes (4 for IPv4, 16 for IPv6), or nil when it is neither.
    public static func bytes(of text: String) -> [UInt8]? {
        // inet_pton reads a C string: a NUL would end the address early and let the bytes after it through.
        guard !text.utf8.contains(0) else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    public func contains(_ address: String) -> Bool {
        if network.isEmpty { return true }
        guard var bytes = Self.bytes(of: address) else { return false }
        // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 address.
        if bytes.count == 16 && network.count == 4 && bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            bytes = Array(bytes[12...])
        }
        guard bytes.count == network.count else { return false }
        var remaining = prefixLength
        for (have, want) in zip(bytes, network) where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            if have & mask != want & mask { return false }
            remaining -= bits
        }
        return true
    }
}
