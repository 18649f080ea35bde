import EventLoop
import HTTP
import Posix

/// Writing responses: the head encoded into the loop's shared buffer, the body from memory, a file
/// (`sendfile`) or a stream.
extension HTTPConnection {
    func record(_ request: Request, _ response: Response, started: Instant, in log: AccessLog) {
        var bytes = 0
        if request.method != .head && response.status.allowsBody {
            switch response.content {
            case let .utf8(string): bytes = string.utf8.count
            case .body(.empty), .body(.stream), .body(.webSocket): bytes = 0
            case let .body(.bytes(body)): bytes = body.count
            case let .body(.file(_, _, length)): bytes = length
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
        await answerWithoutRequest(.text("\(error.reason)\n", status: status), keepAlive: !error.closesConnection)
        await connection.lingeringClose()
    }

    /// Writes an answer to bytes that never became a request (a malformed head, one that timed
    /// out). The metrics count it as method `other`, taking no time (it was judged at once); it
    /// is not a request served (`--max-requests`).
    func answerWithoutRequest(_ response: Response, keepAlive: Bool) async {
        _ = await write(response, for: nil, keepAlive: keepAlive)
        ServiceStats.shared.traffic.answered(method: RequestClasses.methods.count - 1, status: response.status.code, microseconds: 0)
    }

    /// Writes `response` to the request `head` (nil: no request could be read). False when the
    /// connection failed.
    func write(_ response: Response, for head: RequestHead?, keepAlive: Bool) async -> Bool {
        let request = Answering(head)
        let progress = writeAtOnce(response, for: request, keepAlive: keepAlive)
        if case let .finished(ok) = progress { return ok }
        return await finishWriting(progress, response, for: request, keepAlive: keepAlive)
    }

    /// What writing a response needs of its request, taken from the head before the handler
    /// runs: the head itself (two arrays) need not be kept, a retain and a release each.
    struct Answering {
        /// A `HEAD` request: the body is not sent.
        let isHead: Bool
        /// An HTTP/1.0 client: no chunked framing, and `Connection: keep-alive` when kept.
        let http10: Bool

        /// Of `head`; nil (no request could be read) is answered as HTTP/1.1 `GET`.
        init(_ head: RequestHead?) {
            isHead = head?.method == .head
            http10 = head?.version == .http10
        }
    }

    /// How far `writeAtOnce` got.
    enum WriteProgress {
        /// All sent (true), or the connection failed (false).
        case finished(Bool)
        /// The socket took `output` up to this offset: the rest of it, then the file part, if
        /// any, wait for the client to read.
        case partly(from: Int, then: FilePart?)
        /// The head went out; this part of the file waits for the client to read.
        case file(FilePart)
        /// What the socket did not take of a large body in memory (and its head), copied.
        case copied(ByteBuffer)
        /// A stream, which `writeAtOnce` does not write: nothing sent.
        case notTried

        /// Part of a file waits for the client to read it: for as long as a large file or a slow
        /// reader takes.
        var waitsToSendFile: Bool {
            switch self {
            case .file, .partly(_, then: .some): true
            default: false
            }
        }
    }

    struct FilePart {
        let file: OpenFile
        let offset: Int
        let length: Int
    }

    /// `write` without an async call, for every response but a stream: the head with its body
    /// from memory or a file, as far as the socket takes them now. A request whose response the
    /// socket takes whole thus costs no task switch to send it. A small body (up to 1 KiB) is
    /// copied after the head for one `write`; a larger one goes in one `writev` straight from
    /// its array, and only what the kernel did not take is copied.
    func writeAtOnce(_ response: Response, for request: Answering, keepAlive: Bool) -> WriteProgress {
        let isHead = request.isHead
        let http10 = request.http10
        let allowsBody = response.status.allowsBody
        output.removeAll()
        let framing: ResponseHead.Framing
        var filePart: FilePart?
        switch response.content {
        case let .utf8(string):
            framing = allowsBody ? .contentLength(string.utf8.count) : .none
        case .body(.empty):
            framing = allowsBody ? .contentLength(0) : .none
        case let .body(.bytes(bytes)):
            framing = allowsBody ? .contentLength(bytes.count) : .none
        case let .body(.file(file, offset, length)):
            framing = .contentLength(length)
            if !isHead { filePart = FilePart(file: file, offset: offset, length: length) }
        case .body(.stream), .body(.webSocket):
            return .notTried
        }
        ResponseHead.encode(response.status, headers: response.headers, prepared: response.prepared, framing: framing,
                            date: service.dates.value(), close: !keepAlive, keepAlive10: keepAlive && http10, into: output)
        if !isHead, allowsBody {
            switch response.content {
            case let .body(.bytes(bytes)):
                guard bytes.count <= 1024 else { return writeAtOnce(output.bytes, bytes) }
                Self.append(bytes, to: output)
            case let .utf8(string):
                guard string.utf8.count <= 1024 else { return writeAtOnce(output.bytes, string) }
                Self.append(string, to: output)
            default:
                break
            }
        }
        // `bytes.count`, not `output.count`: the stored property read from another module gets
        // a dynamic exclusivity check (`swift_beginAccess`, ~75 instructions), unchecked or not.
        let whole = output.bytes
        guard let sent = connection.writeNow(whole, UnsafeRawBufferPointer(start: nil, count: 0)) else { return .finished(false) }
        guard sent == whole.count else { return .partly(from: sent, then: filePart) }
        guard let part = filePart else { return .finished(true) }
        guard let fileSent = connection.sendFileNow(part.file.fd, offset: part.offset, length: part.length) else { return .finished(false) }
        if fileSent == part.length { return .finished(true) }
        return .file(FilePart(file: part.file, offset: part.offset + fileSent, length: part.length - fileSent))
    }

    /// Not isolated, so that its closure is not either: an isolated closure passed to the
    /// standard library gets a dynamic isolation check (`swift_task_isCurrentExecutor`) per call.
    private nonisolated static func append(_ bytes: [UInt8], to buffer: ByteBuffer) {
        bytes.withUnsafeBytes { buffer.append($0) }
    }

    /// A string's UTF-8 straight from its storage (a small string's from the stack).
    private nonisolated static func append(_ string: String, to buffer: ByteBuffer) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { buffer.append(UnsafeRawBufferPointer($0)) }
        if done == nil { append(Array(string.utf8), to: buffer) }  // not contiguous: never for a native string
    }

    /// `head` then `body` in one `writev`; what the kernel did not take is copied.
    private func writeAtOnce(_ head: UnsafeRawBufferPointer, _ body: [UInt8]) -> WriteProgress {
        progress(connection.writeNowKeepingRest(head, body))
    }

    /// `head` then a string's UTF-8 in one `writev`, from the string's own storage.
    private func writeAtOnce(_ head: UnsafeRawBufferPointer, _ body: String) -> WriteProgress {
        let sent = body.utf8.withContiguousStorageIfAvailable { connection.writeNowKeepingRest(head, UnsafeRawBufferPointer($0)) }
        guard let sent else { return writeAtOnce(head, Array(body.utf8)) }  // not contiguous: never for a native string
        return progress(sent)
    }

    private func progress(_ write: ImmediateWrite) -> WriteProgress {
        switch write {
        case .failed: .finished(false)
        case .complete: .finished(true)
        case let .partial(rest): .copied(rest)
        }
    }

    /// Sends what `writeAtOnce` left, waiting for the client as needed (or the whole response,
    /// when it did not try).
    func finishWriting(_ progress: WriteProgress, _ response: Response, for request: Answering, keepAlive: Bool) async -> Bool {
        switch progress {
        case let .finished(ok):
            return ok
        case let .partly(from, then):
            // `output` is the loop's: `Connection.write` copies what it cannot send before waiting.
            guard await connection.write(UnsafeRawBufferPointer(rebasing: output.bytes[from...]), timeout: settings.writeTimeout) else { return false }
            guard let part = then else { return true }
            return await send(part)
        case let .file(part):
            return await send(part)
        case let .copied(rest):
            return await connection.write(rest.bytes, timeout: settings.writeTimeout)
        case .notTried:
            if case let .webSocket(handoff) = response.body { return await handOff(to: handoff, response) }
            return await writeStream(response, for: request, keepAlive: keepAlive)
        }
    }

    private func send(_ part: FilePart) async -> Bool {
        let sent = await connection.sendFile(part.file.fd, offset: part.offset, length: part.length, timeout: settings.writeTimeout)
        withExtendedLifetime(part.file) {}  // the descriptor stays open until sendfile is done with it
        return sent
    }

    /// A streamed body: its head, then its chunks (HTTP/1.1) or its bytes until close (1.0).
    private func writeStream(_ response: Response, for request: Answering, keepAlive: Bool) async -> Bool {
        guard case let .stream(produce) = response.body else { return false }  // the others: `writeAtOnce`
        let chunked = !request.http10
        output.removeAll()
        ResponseHead.encode(response.status, headers: response.headers, prepared: response.prepared, framing: chunked ? .chunked : .none,
                            date: service.dates.value(), close: !keepAlive || !chunked, into: output)
        guard await connection.write(output.bytes, timeout: settings.writeTimeout) else { return false }
        if request.isHead { return true }
        let writer = ChunkWriter(connection: connection, chunked: chunked, timeout: settings.writeTimeout)
        do {
            try await produce(writer)
            return await writer.finish()
        } catch {
            return false
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
    let framing = ByteBuffer()

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

extension HTTPConnection {
    /// The method's place in `RequestClasses.methods`: taken before the handler runs, so no copy
    /// of the head is kept across its suspension points for this.
    @inline(__always)
    static func methodIndex(_ method: HTTPMethod) -> Int {
        switch method {
        case .get: 0
        case .head: 1
        case .post: 2
        case .put: 3
        case .delete: 4
        default: 5
        }
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
        return .partial(Self.rest(of: head, body, after: written))
    }

    /// The same for an array's bytes, lent without an isolated closure (see `writeNow`).
    func writeNowKeepingRest(_ head: UnsafeRawBufferPointer, _ body: [UInt8]) -> ImmediateWrite {
        guard let written = writeNow(head, body) else { return .failed }
        if written >= head.count + body.count { return .complete }
        return .partial(Self.rest(of: head, body, after: written))
    }

    /// What the kernel did not take of `head` then `body`, after it took `written` bytes, copied.
    private nonisolated static func rest(of head: UnsafeRawBufferPointer, _ body: UnsafeRawBufferPointer, after written: Int) -> ByteBuffer {
        let rest = ByteBuffer()
        if written < head.count {
            rest.append(UnsafeRawBufferPointer(rebasing: head[written...]))
            rest.append(body)
        } else {
            rest.append(UnsafeRawBufferPointer(rebasing: body[(written - head.count)...]))
        }
        return rest
    }

    private nonisolated static func rest(of head: UnsafeRawBufferPointer, _ body: [UInt8], after written: Int) -> ByteBuffer {
        body.withUnsafeBytes { rest(of: head, $0, after: written) }
    }
}
