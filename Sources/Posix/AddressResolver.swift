import Glibc

/// Host names to addresses with `getaddrinfo(3)`, which blocks (it may ask DNS): call it on a
/// thread that may block (`BlockingPool`), never on the loop.
public enum AddressResolver {
    /// `getaddrinfo` failed: its `EAI_*` code is not an errno, so this is not a `SystemError`.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        public let host: String
        public let reason: String
        public var description: String { "getaddrinfo(\(host)) failed: \(reason)" }
    }

    /// The TCP addresses of `host`, in the order `getaddrinfo` prefers them (RFC 6724), without
    /// duplicates. `host` may be a name or a numeric IPv4 or IPv6 address.
    public static func resolve(host: String, port: UInt16) throws(Failure) -> [SocketAddress] {
        guard !host.isEmpty, !host.utf8.contains(0) else { throw Failure(host: host, reason: "not a host name") }
        var hints = addrinfo()
        hints.ai_socktype = CInt(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        var code: CInt
        repeat {
            code = getaddrinfo(host, String(port), &hints, &list)
        } while code == EAI_SYSTEM && Errno.current == .interrupted
        guard code == 0 else {
            let reason = code == EAI_SYSTEM ? "\(Errno.current)" : String(cString: gai_strerror(code))
            throw Failure(host: host, reason: reason)
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var entry = list
        while let current = entry {
            if let raw = current.pointee.ai_addr, let address = SocketAddress(storage: UnsafeRawPointer(raw)),
               !addresses.contains(address) {
                addresses.append(address)
            }
            entry = current.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw Failure(host: host, reason: "no address") }
        return addresses
    }
}
