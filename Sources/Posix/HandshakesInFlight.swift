import CLinux
import Glibc

/// TCP handshakes under way on local ports: connections the kernel answered with a SYN-ACK whose
/// final ACK has not arrived (`SYN_RECV`).
///
/// A stop makes the listeners refuse new connections (`Socket.refuseNewConnections`), but a
/// handshake already under way still completes into the accept queue, up to a round trip later
/// (more when its ACK is lost and the SYN-ACK is sent again). The master waits for these to land
/// before it tells the workers to take what is queued and stop accepting: a connection that
/// completes after that would sit in the queue until the listener closes, and be reset.
///
/// Asked of the kernel's socket diagnostics (netlink, as `ss` does), which dump only sockets in
/// that state. Not `/proc/net/tcp`: it lists every socket, the kernel walks its tables again for
/// each page of it, and on a test machine full of `TIME_WAIT`s one read took tens of milliseconds
/// (CI saw a stop's drain begin 79 ms late).
public enum HandshakesInFlight {
    /// How many handshakes are under way on `ports`, IPv4 and IPv6. Throws when the kernel will
    /// not answer (no `NETLINK_SOCK_DIAG`, as in some sandboxes).
    public static func count(onPorts ports: Set<UInt16>) throws(SystemError) -> Int {
        guard !ports.isEmpty else { return 0 }
        let list = Array(ports)
        var total = 0
        for family in [AF_INET, AF_INET6] {
            total += Int(try syscall("netlink(SOCK_DIAG_BY_FAMILY)") {
                list.withUnsafeBufferPointer { clinux_count_syn_received(family, $0.baseAddress, CInt($0.count)) }
            })
        }
        return total
    }
}
