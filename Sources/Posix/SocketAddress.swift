import CLinux
import Glibc

/// An address to listen on, as users write it: `HOST:PORT` (IPv4), `[IPv6]:PORT`, or `unix:/path`.
///
/// Only numeric addresses (and `localhost`, which means 127.0.0.1) are accepted: a listener must not
/// depend on DNS answering at start-up, and a typo should fail loudly rather than resolve somewhere.
public enum SocketAddress: Hashable, Sendable, CustomStringConvertible {
    case ipv4(host: String, port: UInt16)
    case ipv6(host: String, port: UInt16)
    case unix(path: String)

    public struct ParseError: Error, CustomStringConvertible {
        public let input: String
        public let reason: String
        public var description: String { "invalid address '\(input)': \(reason)" }
    }

    /// Parses `127.0.0.1:8080`, `[::1]:8080`, `0.0.0.0:0` or `unix:/run/app.sock`.
    public init(parsing text: String) throws(ParseError) {
        func fail(_ reason: String) -> ParseError { ParseError(input: text, reason: reason) }
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard path.hasPrefix("/") || path.hasPrefix("./") || path.hasPrefix("../") else {
                throw fail("a unix socket path must be absolute or start with ./ or ../")
            }
            guard path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else { throw fail("the path is too long for a unix socket") }
            guard !path.utf8.contains(0) else { throw fail("the path contains NUL") }
            self = .unix(path: path)
            return
        }
        // inet_pton reads a C string: a NUL would end the host early and let the bytes after it through.
        guard !text.utf8.contains(0) else { throw fail("the address contains NUL") }
        guard let colon = text.lastIndex(of: ":") else { throw fail("expected HOST:PORT, [IPv6]:PORT or unix:/path") }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.utf8.count <= 5, portText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let port = Int(portText), port <= 65535
        else { throw fail("the port must be a number from 0 to 65535") }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { throw fail("an IPv6 address is written [ADDRESS]:PORT") }
            host = String(host.dropFirst().dropLast())
            var raw = in6_addr()
            guard inet_pton(AF_INET6, host, &raw) == 1 else { throw fail("'\(host)' is not an IPv6 address") }
            self = .ipv6(host: Self.canonical(AF_INET6, &raw) ?? host, port: UInt16(port))
            return
        }
        if host == "localhost" { host = "127.0.0.1" }
        if host == "*" { host = "0.0.0.0" }
        var raw = in_addr()
        guard inet_pton(AF_INET, host, &raw) == 1 else {
            throw fail(host.isEmpty ? "the host is missing" : "'\(host)' is not an IPv4 address (write IPv6 as [ADDRESS]:PORT)")
        }
        self = .ipv4(host: host, port: UInt16(port))
    }

    /// The kernel's spelling of an address (`0::1` → `::1`), so equal addresses compare equal.
    private static func canonical(_ family: CInt, _ raw: UnsafeRawPointer) -> String? {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        guard inet_ntop(family, raw, &text, socklen_t(text.count)) != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String {
        switch self {
        case let .ipv4(host, port): "\(host):\(port)"
        case let .ipv6(host, port): "[\(host)]:\(port)"
        case let .unix(path): "unix:\(path)"
        }
    }

    /// The host part alone (`127.0.0.1`, `::1`), `unix` for a unix socket: what a log shows.
    public var host: String {
        switch self {
        case let .ipv4(host, _), let .ipv6(host, _): host
        case .unix: "unix"
        }
    }

    public var port: UInt16? {
        switch self {
        case let .ipv4(_, port), let .ipv6(_, port): port
        case .unix: nil
        }
    }

    public var isUnix: Bool { if case .unix = self { true } else { false } }

    var family: CInt {
        switch self {
        case .ipv4: AF_INET
        case .ipv6: AF_INET6
        case .unix: AF_UNIX
        }
    }

    /// Calls `body` with this address as a `sockaddr` and its length.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemError) -> R) throws(SystemError) -> R {
        var storage = sockaddr_storage()
        let length: socklen_t
        switch self {
        case let .ipv4(host, port):
            length = withUnsafeMutableBytes(of: &storage) { raw in
                let sin = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
                sin.pointee.sin_family = sa_family_t(AF_INET)
                sin.pointee.sin_port = port.bigEndian
                _ = inet_pton(AF_INET, host, &sin.pointee.sin_addr)
                return socklen_t(MemoryLayout<sockaddr_in>.size)
            }
        case let .ipv6(host, port):
            length = withUnsafeMutableBytes(of: &storage) { raw in
                let sin6 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
                sin6.pointee.sin6_family = sa_family_t(AF_INET6)
                sin6.pointee.sin6_port = port.bigEndian
                _ = inet_pton(AF_INET6, host, &sin6.pointee.sin6_addr)
                return socklen_t(MemoryLayout<sockaddr_in6>.size)
            }
        case let .unix(path):
            // sun_path holds 108 bytes, its NUL included: a longer path is an error, not a crash.
            guard path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else {
                throw SystemError("socket address", errno: Errno(rawValue: ENAMETOOLONG), object: "unix:\(path)")
            }
            length = withUnsafeMutableBytes(of: &storage) { raw in
                let sun = raw.baseAddress!.assumingMemoryBound(to: sockaddr_un.self)
                sun.pointee.sun_family = sa_family_t(AF_UNIX)
                withUnsafeMutableBytes(of: &sun.pointee.sun_path) { pathBytes in
                    for (index, byte) in path.utf8.enumerated() { pathBytes[index] = byte }
                }
                return socklen_t(MemoryLayout<sa_family_t>.size + path.utf8.count + 1)
            }
        }
        return try withUnsafePointer(to: &storage) { (pointer) throws(SystemError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(SystemError) in
                try body(address, length)
            }
        }
    }

    /// Decodes a `sockaddr` the kernel filled in (`getsockname`, `accept4`).
    public init?(storage: UnsafeRawPointer) {
        let family = CInt(storage.assumingMemoryBound(to: sockaddr.self).pointee.sa_family)
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        func decoded(_ text: [CChar]) -> String { String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        switch family {
        case AF_INET:
            let sin = storage.assumingMemoryBound(to: sockaddr_in.self)
            var address = sin.pointee.sin_addr
            guard inet_ntop(AF_INET, &address, &text, socklen_t(text.count)) != nil else { return nil }
            self = .ipv4(host: decoded(text), port: UInt16(bigEndian: sin.pointee.sin_port))
        case AF_INET6:
            let sin6 = storage.assumingMemoryBound(to: sockaddr_in6.self)
            var address = sin6.pointee.sin6_addr
            guard inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil else { return nil }
            self = .ipv6(host: decoded(text), port: UInt16(bigEndian: sin6.pointee.sin6_port))
        case AF_UNIX:
            let sun = storage.assumingMemoryBound(to: sockaddr_un.self)
            let path = withUnsafeBytes(of: sun.pointee.sun_path) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            self = .unix(path: path)
        default:
            return nil
        }
    }
}
