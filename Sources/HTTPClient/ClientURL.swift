import Posix

/// Where requests go: a TCP host and port, or a unix socket. Connections are pooled per origin.
public enum Origin: Hashable, Sendable, CustomStringConvertible {
    /// `host` as written in the URL, without brackets (a name, an IPv4 or an IPv6 literal).
    case tcp(host: String, port: UInt16)
    case unix(path: String)

    public var description: String {
        switch self {
        case let .tcp(host, port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case let .unix(path): "unix:\(path)"
        }
    }
}

/// An `http://` URL taken apart for a request: the origin, the request-target and the Host field.
///
/// `http://HOST[:PORT][/PATH][?QUERY]`, HOST a name, an IPv4 literal or `[IPv6]`; or
/// `http+unix://PERCENT-ENCODED-SOCKET-PATH/PATH` (`http+unix://%2Frun%2Fapp.sock/health`), the
/// convention of curl's `--unix-socket` wrappers and Python's requests-unix-socket. The path and
/// query are sent as written: they must already be percent-encoded (visible ASCII only), so what
/// goes on the wire is what the caller wrote. A fragment is not sent. `https://` is refused:
/// TLS is the reverse proxy's job.
public struct ClientURL: Sendable, Equatable, CustomStringConvertible {
    public let origin: Origin
    /// The origin-form request-target: `/path?query`.
    public let target: String
    /// The `Host` field's value: the authority as written (`example.com:8080`, `[::1]:8080`).
    public let hostField: String
    public let description: String

    init(origin: Origin, target: String, hostField: String, description: String) {
        self.origin = origin
        self.target = target
        self.hostField = hostField
        self.description = description
    }

    public init(parsing text: String) throws(HTTPClientError) {
        func invalid(_ reason: String) -> HTTPClientError { HTTPClientError(.invalidURL, "invalid URL '\(text)': \(reason)") }
        guard let separator = text.firstRange(of: "://") else { throw invalid("expected http://HOST/PATH") }
        let scheme = text[..<separator.lowerBound].lowercased()
        var rest = text[separator.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = String(rest[..<authorityEnd])
        var target = String(rest[authorityEnd...])
        if target.isEmpty { target = "/" } else if target.hasPrefix("?") { target = "/" + target }
        guard target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw invalid("the path and query must be percent-encoded (visible ASCII, no spaces)")
        }
        guard !authority.contains("@") else { throw invalid("user information in the URL is not supported") }
        switch scheme {
        case "http":
            let (host, port) = try Self.splitAuthority(authority, invalid)
            origin = .tcp(host: host, port: port)
            hostField = authority
        case "http+unix":
            guard let path = authority.removingPercentEncoding, path.hasPrefix("/"), !path.utf8.contains(0) else {
                throw invalid("http+unix:// takes the socket's absolute path, percent-encoded (%2Frun%2Fapp.sock)")
            }
            origin = .unix(path: path)
            hostField = "localhost"
        case "https":
            throw HTTPClientError(.unsupportedScheme, "cannot fetch '\(text)': https:// is not supported, this client speaks plain HTTP/1.1 (TLS is terminated by the reverse proxy)")
        default:
            throw invalid("the scheme must be http:// or http+unix://")
        }
        self.target = target
        description = text
    }

    private static func splitAuthority(_ authority: String, _ invalid: (String) -> HTTPClientError) throws(HTTPClientError) -> (String, UInt16) {
        var host = authority
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("an IPv6 host is written [ADDRESS]") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("expected :PORT after the IPv6 address") }
                portText = after.dropFirst()
            }
            guard (try? SocketAddress(parsing: "[\(host)]:0")) != nil else { throw invalid("'\(host)' is not an IPv6 address") }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty else { throw invalid("the host is missing") }
        if !authority.hasPrefix("[") {
            guard host.utf8.allSatisfy({ $0 == 0x2D || $0 == 0x2E || $0 == 0x5F || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) })
            else { throw invalid("'\(host)' is not a host name or IPv4 address") }
        }
        guard let portText else { return (host, 80) }
        guard !portText.isEmpty, portText.utf8.count <= 5, portText.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let port = Int(portText), (1...65535).contains(port)
        else { throw invalid("the port must be a number from 1 to 65535") }
        return (host, UInt16(port))
    }
}

extension String {
    /// `%2F` → `/`; nil for a malformed escape or bytes that are not UTF-8.
    fileprivate var removingPercentEncoding: String? {
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == 0x25 else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
