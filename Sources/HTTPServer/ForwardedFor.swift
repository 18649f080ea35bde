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

    static func isTrusted(_ address: String, _ trusted: [AddressRange]) -> Bool {
        trusted.contains { $0.contains(address) }
    }
}
