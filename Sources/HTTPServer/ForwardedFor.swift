import Posix

/// Who the client really is, given the peer and the forwarding headers.
public enum ForwardedFor {
    /// The client address: the peer's, or, from a trusted peer, the last address in
    /// `X-Forwarded-For` that is not itself trusted (walking right to left, so a client cannot pick
    /// its own address by prepending entries).
    public static func client(peer: String, forwardedFor: [String], trusted: [AddressRange]) -> String {
        guard isTrusted(peer, trusted) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingBlanks }
        for hop in hops.reversed() {
            guard AddressRange.bytes(of: hop) != nil else { return peer }  // garbage: believe nothing
            if !isTrusted(hop, trusted) { return hop }
        }
        return hops.first ?? peer
    }

    /// `http` or `https`: from `X-Forwarded-Proto` only when the peer is trusted.
    public static func scheme(peer: String, forwardedProto: String?, trusted: [AddressRange]) -> String {
        guard isTrusted(peer, trusted), let proto = forwardedProto?.lowercased().trimmingBlanks,
              proto == "https" || proto == "http" else { return "http" }
        return proto
    }

    /// A peer on a unix socket is a local process allowed to open the socket file, as close as
    /// loopback: trusted, so a proxy in front of a unix socket is believed (`peer` is `unix`).
    static func isTrusted(_ address: String, _ trusted: [AddressRange]) -> Bool {
        address == "unix" || trusted.contains { $0.contains(address) }
    }
}

/// `X-Request-Start` from a trusted proxy: when the proxy received the request, so the access log
/// can show how long it waited before a worker took it (queue time), as Heroku and New Relic read it.
public enum RequestStart {
    /// Seconds between the proxy's stamp and `now` (Unix seconds), never negative (clocks of two
    /// hosts differ a little); nil when the header is absent, garbage, or not from a trusted peer.
    ///
    /// Accepted: `t=` followed by seconds with a fraction (nginx's `${msec}`: `1700000000.123`), or
    /// an integer in milliseconds or microseconds, told apart by magnitude; the `t=` may be absent.
    /// `now` is read only when there is a stamp to compare it with.
    public static func queueSeconds(peer: String, header: String?, trusted: [AddressRange], now: @autoclosure () -> Double) -> Double? {
        guard let header, ForwardedFor.isTrusted(peer, trusted), let stamp = parse(header) else { return nil }
        return max(0, now() - stamp)
    }

    /// The stamp in Unix seconds.
    static func parse(_ header: String) -> Double? {
        var text = Substring(header.trimmingBlanks)
        if text.hasPrefix("t=") { text = text.dropFirst(2) }
        guard !text.isEmpty, text.count <= 24,
              text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 }), text.utf8.filter({ $0 == 46 }).count <= 1,
              let value = Double(text), value > 0 else { return nil }
        if text.contains(".") { return value }
        if value >= 1e15 { return value / 1e6 }  // microseconds
        if value >= 1e12 { return value / 1e3 }  // milliseconds
        return value
    }
}
