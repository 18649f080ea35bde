import CLinux
import EventLoop
import Posix

/// The line-echo service: every `\n`-terminated line comes back exactly as sent, in order.
///
/// Reads go into the loop's shared 64 KiB buffer; all whole lines of a read are written back in one
/// syscall straight from it. Only a partial line at the end of a read is copied (into the
/// connection's own carry buffer), so a ping-pong client costs no copy and no allocation per line.
/// A line longer than `maximumLineLength` gets an error line, then the connection closes (lingering,
/// so the client reads the error line rather than a reset).
@LoopActor
public final class LineEchoService: Service {
    /// The longest line echoed, newline included.
    public static let maximumLineLength = 64 * 1024
    static let tooLong = Array("error: line too long (limit \(maximumLineLength) bytes)\n".utf8)

    let idleTimeout: Duration

    public init(idleTimeout: Duration) {
        self.idleTimeout = idleTimeout
    }

    public func serve(_ connection: Connection) async {
        let buffer = EventLoop.current.sharedBuffer
        let stats = ServiceStats.shared
        let traffic = stats.traffic
        traffic.echoOpened()
        defer { traffic.echoClosed() }
        // Bytes of a line not finished yet, and where the next partial tail is saved while a write
        // may suspend (the shared buffer is reused by other connections meanwhile).
        let carry = ByteBuffer()
        let spare = ByteBuffer()
        let limit = Self.maximumLineLength
        // A drain never ends an echo conversation: the protocol has no way to say "closing", and the
        // client's next line may already be on the wire whenever we would cut it (a drain that closed
        // connections idle between lines lost ~1 in 5,000 under HUP). The conversation goes on until
        // the client closes, it idles past the idle timeout, or the drain deadline passes (nginx's
        // stream module does the same).
        while true {
            let result = await connection.read(into: buffer, timeout: idleTimeout)
            guard case let .bytes(count) = result, let base = buffer.baseAddress else { return }
            guard let last = clinux_memrchr(base, 10, count) else {
                carry.append(UnsafeRawBufferPointer(start: base, count: count))
                if carry.count >= limit { return await reject(connection) }
                continue
            }
            let end = base.distance(to: last) + 1
            if !carry.isEmpty, let first = memchr(base, 10, count), carry.count + base.distance(to: first) + 1 > limit {
                return await reject(connection)
            }
            let lines = Self.countLines(base, end)
            stats.served(lines)
            traffic.echoed(lines: lines)
            spare.append(UnsafeRawBufferPointer(start: base + end, count: count - end))
            let whole = UnsafeRawBufferPointer(start: base, count: end)
            let sent = carry.isEmpty
                ? await connection.write(whole, timeout: idleTimeout)
                : await connection.write(carry.bytes, whole, timeout: idleTimeout)
            guard sent else { return }
            carry.removeAll()
            carry.append(spare.bytes)
            spare.removeAll()
        }
    }

    private func reject(_ connection: Connection) async {
        let message = ByteBuffer()
        Self.tooLong.withUnsafeBytes { message.append($0) }
        if await connection.write(message.bytes, timeout: idleTimeout) { await connection.lingeringClose() }
    }

    nonisolated static func countLines(_ base: UnsafeMutableRawPointer, _ count: Int) -> UInt64 {
        var lines: UInt64 = 0
        var cursor = base
        var remaining = count
        while remaining > 0, let found = memchr(cursor, 10, remaining) {
            lines += 1
            let advance = cursor.distance(to: found) + 1
            cursor += advance
            remaining -= advance
        }
        return lines
    }
}
