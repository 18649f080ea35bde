import EventLoop
import HTTP
import Posix

/// Writing responses: the head encoded into the loop's shared buffer, the body from memory, a file
/// (`sendfile`) or a stream.
extension HTTPConnection {
    func record(_ request: Request, _ response: Response, started: Instant, in log: AccessLog) {
        var bytes = 0
        if request.method != .head && response.status.allowsBody {
            switch response.body {
            case .empty, .stream, .webSocket: bytes = 0
            case let .bytes(body): bytes = body.count
            case let .file(_, _, length): bytes = length
            }
        }
        log.record(client: request.clientAddress, method: request.method.rawValue, target: request.head.target,
                   version: request.head.version == .http10 ? "HTTP/1.0" : "HTTP/1.1", status: response.status.code, bytes: bytes,
                   referer: request.head.headers.first(name: "Referer"), userAgent: request.head.headers.first(name: "User-Agent"),
                   seconds: Double(Instant.now.since(started).nanoseconds) / 1e9,
                   queueSeconds: RequestStart.queueSeconds(peer: peerHost, header: request.head.headers.first(name: "X-Request-Start"),
                                                           trusted: settings.trustedProxies, now: WallClock.preciseSeconds))
    }

    /// Answers a parse error, then closes (lingering, so the client reads the answer).
    func answer(_ error: HTTPParseError) async {
        let status = Status(error.code, error.status.reasonPhrase)
        _ = await write(.text("\(error.reason)\n", status: status), for: nil, keepAlive: !error.closesConnection)
        await connection.lingeringClose()
    }

    /// Writes `response` to the request `head` (nil: no request could be read). False when the
    /// connection failed.
    func write(_ response: Response, for head: RequestHead?, keepAlive: Bool) async -> Bool {
        let isHead = head?.method == .head
        let http10 = head?.version == .http10
        output.removeAll()
        let date = service.dates.value()
        let allowsBody = response.status.allowsBody
        switch response.body {
        case .empty:
            ResponseHead.encode(response.status, headers: response.headers, framing: allowsBody ? .contentLength(0) : .none,
                                date: date, close: !keepAlive, keepAlive10: keepAlive && http10, into: output)
            return await connection.write(output.bytes, timeout: settings.writeTimeout)
        case let .bytes(bytes):
            ResponseHead.encode(response.status, headers: response.headers, framing: allowsBody ? .contentLength(bytes.count) : .none,
                                date: date, close: !keepAlive, keepAlive10: keepAlive && http10, into: output)
            if isHead || !allowsBody { return await connection.write(output.bytes, timeout: settings.writeTimeout) }
            if bytes.count <= 1024 {
                bytes.withUnsafeBytes { output.append($0) }
                return await connection.write(output.bytes, timeout: settings.writeTimeout)
            }
            // Larger bodies: head and body in one writev straight from the array, no copy; only what
            // the kernel did not take is copied, to be written once the client reads.
            let head = output.bytes
            switch bytes.withUnsafeBytes({ connection.writeNowKeepingRest(head, $0) }) {
            case .failed: return false
            case .complete: return true
            case let .partial(rest): return await connection.write(rest.bytes, timeout: settings.writeTimeout)
            }
        case let .file(file, offset, length):
            ResponseHead.encode(response.status, headers: response.headers, framing: .contentLength(length),
                                date: date, close: !keepAlive, keepAlive10: keepAlive && http10, into: output)
            guard await connection.write(output.bytes, timeout: settings.writeTimeout) else { return false }
            if isHead { return true }
            let sent = await connection.sendFile(file.fd, offset: offset, length: length, timeout: settings.writeTimeout)
            withExtendedLifetime(file) {}  // the descriptor stays open until sendfile is done with it
            return sent
        case let .stream(produce):
            let chunked = !http10
            ResponseHead.encode(response.status, headers: response.headers, framing: chunked ? .chunked : .none,
                                date: date, close: !keepAlive || !chunked, into: output)
            guard await connection.write(output.bytes, timeout: settings.writeTimeout) else { return false }
            if isHead { return true }
            let writer = ChunkWriter(connection: connection, chunked: chunked, timeout: settings.writeTimeout)
            do {
                try await produce(writer)
                return await writer.finish()
            } catch {
                return false
            }
        case let .webSocket(handoff):
            return await handOff(to: handoff, response)
        }
    }
}

/// Writes a streamed body, as chunks (HTTP/1.1) or raw until close (HTTP/1.0).
@LoopActor
final class ChunkWriter: BodyWriter {
    struct Failed: Error {}
    let connection: Connection
    let chunked: Bool
    let timeout: Duration
    private let framing = ByteBuffer()

    init(connection: Connection, chunked: Bool, timeout: Duration) {
        self.connection = connection
        self.chunked = chunked
        self.timeout = timeout
    }

    func write(_ bytes: UnsafeRawBufferPointer) async throws {
        guard !bytes.isEmpty else { return }
        if !chunked {
            guard await connection.write(bytes, timeout: timeout) else { throw Failed() }
            return
        }
        framing.removeAll()
        ResponseHead.append(String(bytes.count, radix: 16) + "\r\n", to: framing)
        guard await connection.write(framing.bytes, bytes, timeout: timeout) else { throw Failed() }
        framing.removeAll()
        ResponseHead.append("\r\n", to: framing)
        guard await connection.write(framing.bytes, timeout: timeout) else { throw Failed() }
    }

    func finish() async -> Bool {
        guard chunked else { return true }
        framing.removeAll()
        ResponseHead.append("0\r\n\r\n", to: framing)
        return await connection.write(framing.bytes, timeout: timeout)
    }
}

/// What one write now did: all of it, part of it (the rest kept), or failed.
enum ImmediateWrite {
    case complete
    /// The rest, copied: the caller's memory was only lent.
    case partial(ByteBuffer)
    case failed
}

extension Connection {
    /// One `writev` of `head` then `body` now; what the kernel did not take is copied, to be
    /// written once the client reads. For memory that can only be lent synchronously
    /// (`Array.withUnsafeBytes`): no copy, and no allocation, when all of it goes out at once.
    func writeNowKeepingRest(_ head: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer) -> ImmediateWrite {
        guard let written = writeNow(head, body) else { return .failed }
        if written >= head.count + body.count { return .complete }
        let rest = ByteBuffer()
        if written < head.count {
            rest.append(UnsafeRawBufferPointer(rebasing: head[written...]))
            rest.append(body)
        } else {
            rest.append(UnsafeRawBufferPointer(rebasing: body[(written - head.count)...]))
        }
        return .partial(rest)
    }
}
