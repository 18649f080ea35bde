/// TCP handshakes under way on local ports: connections the kernel answered with a SYN-ACK whose
/// final ACK has not arrived (`SYN_RECV`), as `/proc/net/tcp` and `/proc/net/tcp6` list them.
///
/// A stop makes the listeners refuse new connections (`Socket.refuseNewConnections`), but a
/// handshake already under way still completes into the accept queue, up to a round trip later
/// (more when its ACK is lost and the SYN-ACK is sent again). The master waits for these to land
/// before it tells the workers to take what is queued and stop accepting: a connection that
/// completes after that would sit in the queue until the listener closes, and be reset.
public enum HandshakesInFlight {
    /// How many handshakes are under way on `ports`, in both tables of this network namespace.
    /// Throws when `/proc/net/tcp` cannot be read (no `/proc`); a missing `tcp6` (IPv6 off) is none.
    public static func count(onPorts ports: Set<UInt16>) throws(SystemError) -> Int {
        guard !ports.isEmpty else { return 0 }
        // 150 bytes a socket: the limit holds more than a million.
        let limit = 256 << 20
        let ipv4 = try FileSystem.readFile("/proc/net/tcp", limit: limit)
        let ipv6 = (try? FileSystem.readFile("/proc/net/tcp6", limit: limit)) ?? []
        return count(in: ipv4, onPorts: ports) + count(in: ipv6, onPorts: ports)
    }

    /// Counts the table's `SYN_RECV` rows (state `03`, the kernel's `TCP_SYN_RECV`) whose local
    /// port is in `ports`. A row is `sl: local_address rem_address st …`, an address `HEX:PORT`
    /// (the port in hex); the heading and any row that does not parse are skipped. By bytes, not
    /// `Character`s: the master reads the table every few milliseconds while it waits, and a busy
    /// host's has tens of thousands of rows.
    static func count(in table: [UInt8], onPorts ports: Set<UInt16>) -> Int {
        var count = 0
        var lineStart = 0
        while lineStart < table.count {
            var lineEnd = lineStart
            while lineEnd < table.count && table[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            if let row = Row(table[lineStart..<lineEnd]), row.state == 0x03, ports.contains(row.localPort) { count += 1 }
            lineStart = lineEnd + 1
        }
        return count
    }

    /// The two columns of a row that matter here.
    struct Row {
        let localPort: UInt16
        let state: UInt8

        /// Nil for the heading, or a row whose columns are not as the kernel writes them.
        init?(_ line: ArraySlice<UInt8>) {
            // The first four words, without an array per row.
            var local: ArraySlice<UInt8> = []
            var stateWord: ArraySlice<UInt8> = []
            var words = 0
            var index = line.startIndex
            while words < 4 && index < line.endIndex {
                while index < line.endIndex && line[index] == UInt8(ascii: " ") { index += 1 }
                let start = index
                while index < line.endIndex && line[index] != UInt8(ascii: " ") { index += 1 }
                guard start < index else { break }
                if words == 1 { local = line[start..<index] }
                if words == 3 { stateWord = line[start..<index] }
                words += 1
            }
            guard words == 4, let colon = local.lastIndex(of: UInt8(ascii: ":")),
                  let port = Self.hex(local[(colon + 1)...], digits: 4),
                  let state = Self.hex(stateWord, digits: 2) else { return nil }
            localPort = UInt16(port)
            self.state = UInt8(state)
        }

        /// Exactly `digits` hex digits (either case), as the kernel pads them.
        static func hex(_ text: ArraySlice<UInt8>, digits: Int) -> Int? {
            guard text.count == digits else { return nil }
            var value = 0
            for byte in text {
                let digit: Int
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = Int(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = Int(byte - UInt8(ascii: "A")) + 10
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = Int(byte - UInt8(ascii: "a")) + 10
                default: return nil
                }
                value = value * 16 + digit
            }
            return value
        }
    }
}
