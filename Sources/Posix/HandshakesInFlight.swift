/// TCP handshakes under way on local ports: connections the kernel answered with a SYN-ACK whose
/// final ACK has not arrived (`SYN_RECV`), as `/proc/net/tcp` and `/proc/net/tcp6` list them.
///
/// A stop makes the listeners refuse new connections (`Socket.refuseNewConnections`), but a
/// handshake already under way still completes into the accept queue, up to a round trip later
/// (more when its ACK is lost and the SYN-ACK is sent again). The master waits for these to land
/// before it tells the workers to take what is queued and stop accepting: a connection that
/// completes after that would sit in the queue until the listener closes, and be reset.
public enum HandshakesInFlight {
    /// The kernel's `TCP_SYN_RECV`, the `st` column in hex.
    static let synReceived: Substring = "03"

    /// How many handshakes are under way on `ports`, in both tables of this network namespace.
    /// Throws when neither table can be read (no `/proc`); a missing `tcp6` (IPv6 off) is none.
    public static func count(onPorts ports: Set<UInt16>) throws(SystemError) -> Int {
        guard !ports.isEmpty else { return 0 }
        // 150 bytes a socket: the limit holds several hundred thousand.
        let limit = 256 << 20
        let ipv4 = try TextFile.read("/proc/net/tcp", limit: limit)
        let ipv6 = (try? TextFile.read("/proc/net/tcp6", limit: limit)) ?? ""
        return count(in: ipv4, onPorts: ports) + count(in: ipv6, onPorts: ports)
    }

    /// Counts the table's `SYN_RECV` rows whose local port is in `ports`. A row is `sl local_address
    /// rem_address st …`, the local address `HEX:PORT` (the port in four hex digits); the heading
    /// and any row that does not parse are skipped.
    static func count(in table: String, onPorts ports: Set<UInt16>) -> Int {
        var count = 0
        for row in table.split(separator: "\n", omittingEmptySubsequences: true) {
            let columns = row.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: true)
            guard columns.count >= 4, columns[3] == synReceived,
                  let colon = columns[1].lastIndex(of: ":"),
                  let port = UInt16(columns[1][columns[1].index(after: colon)...], radix: 16),
                  ports.contains(port) else { continue }
            count += 1
        }
        return count
    }
}
