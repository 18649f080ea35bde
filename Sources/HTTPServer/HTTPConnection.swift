import EventLoop
import Glibc
import HTTP
import Posix

/// One HTTP/1.1 connection: reads requests with the parser, hands them to the responder, writes the
/// responses, keeps the connection alive while both sides want it.
///
/// Input goes into a buffer of the connection's own, not the loop's shared one: a handler may
/// await (the disk, the blocking pool) while body bytes or a pipelined request wait in it. The
/// buffer and the parser are lent by the loop (`ConnectionBuffers`) while the connection has
/// bytes in hand: an idle keep-alive connection gives them back and waits for its next request
/// without them.
@LoopActor
final class HTTPConnection {
    let connection: Connection
    unowned let service: HTTPService
    // Unchecked exclusivity (the check cost ~14% of the instructions per request, DESIGN.md). Safe
    // because no access to these fields overlaps another: no `inout` access spans a suspension point
    // or a call that touches the same field. It is not about threads.
    /// The parser, while lent (nil: idle, or not started).
    @exclusivity(unchecked) private var lent: ParserBox?
    /// The lent parser has consumed nothing since its last request ended (or since it was lent):
    /// only then may it go back to the free list for another connection (leading empty lines
    /// would leave a count of them behind in it).
    @exclusivity(unchecked) private var parserUntouched = true
    /// The input buffer, while lent (empty: none).
    @exclusivity(unchecked) private var input = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    /// Unparsed input is `input[start..<end]`.
    @exclusivity(unchecked) private var start = 0
    @exclusivity(unchecked) private var end = 0
    private var output: ByteBuffer { ConnectionBuffers.shared.output }
    /// The request being served asked for `100 Continue`, and it has not been sent yet.
    @exclusivity(unchecked) private var awaitingContinue = false
    /// The loop instant by which the head being read must be complete (0: not started yet).
    @exclusivity(unchecked) private var headDeadline: UInt64 = 0


    init(connection: Connection, service: HTTPService) {
        self.connection = connection
        self.service = service
    }

    var settings: HTTPSettings { service.settings }

    /// The client named by a PROXY protocol header, which stands for the socket's peer.
    private(set) var proxiedPeer: String?

    /// The peer the forwarding rules start from: the PROXY header's source, else the socket's.
    var peerHost: String { proxiedPeer ?? connection.peerHost }

    /// Serves requests until the connection ends; gives the buffers back on the way out.
    func run() async {
        defer { giveBuffers() }
        if settings.proxyProtocol {
            guard await readProxyHeader() else { return }
        }
        var firstRequest = true
        while true {
            guard let head = await readHead(firstRequest: firstRequest) else { return }
            firstRequest = false
            awaitingContinue = head.expectContinue
            let hasBody = head.framing != .noBody
            let request = Request(head: head, body: RequestBody(source: self, empty: !hasBody))
            let started = Instant.now
            let response = await service.responder.respond(to: request)
            var keepAlive = head.keepAlive && !EventLoop.current.isDraining
            // The handler answered without reading the whole body. The answer goes out now, never
            // after waiting for the body: a refused upload (503, 413) or a route that takes no body
            // must not hold the connection until the client sends it, and a `100-continue` client
            // sends nothing until it hears back (RFC 9110 §10.1.1: the final status at once).
            var discardAfterAnswer = false
            if !request.body.isFinished && !discardBuffered(request.body) {
                if awaitingContinue || response.status.code >= 400 || !worthDiscarding(head.framing) {
                    keepAlive = false
                } else {
                    discardAfterAnswer = keepAlive
                }
            }
            awaitingContinue = false
            var written = await write(response, for: head, keepAlive: keepAlive)
            ServiceStats.shared.served()
            if let log = service.accessLog { record(request, response, started: started, in: log) }
            if written && discardAfterAnswer {
                // The next request starts after this body: read and drop it, within reason.
                written = await discardBody(request.body)
                keepAlive = written
            }
            guard written, keepAlive else {
                if keepAlive == false { await connection.lingeringClose() }
                return
            }
        }
    }

    // MARK: Reading

    /// Why no further input came.
    private enum Failure: Error { case closed, timedOut, draining, cancelled }

    /// The next parser event, reading as needed, each read waiting up to `timeout`. Reading a
    /// `head`, once part of it has arrived, reads wait only until `headDeadline` (set then, if
    /// not yet): the whole head must arrive by it, however it is trickled (slowloris).
    private func nextEvent(timeout: Duration, head: Bool = false) async -> Result<RequestParser.Event, Failure> {
        while true {
            if let box = lent {
                let output = box.parser.parse(UnsafeRawBufferPointer(rebasing: input[start..<end]))
                start += output.consumed
                switch output.event {
                case .needMore:
                    if output.consumed > 0 { parserUntouched = false }
                case .end:
                    parserUntouched = true
                    return .success(.end)
                default:
                    return .success(output.event)
                }
                if start == end {
                    start = 0
                    end = 0
                    // Between requests with nothing in hand: wait without the buffers.
                    if head && box.parser.isIdle { giveBuffers() }
                } else if end == input.count {
                    compact()
                }
            }
            var wait = timeout
            if head, !(parserIsIdle && start == end) {
                let now = EventLoop.current.now
                if headDeadline == 0 { headDeadline = now &+ UInt64(max(0, settings.headerTimeout.nanoseconds)) }
                guard now < headDeadline else { return .failure(.timedOut) }
                wait = .nanoseconds(Int64(headDeadline - now))
            }
            if input.count == 0 {
                switch await connection.readable(timeout: wait) {
                case .ready: takeBuffers()
                case .timedOut: return .failure(.timedOut)
                case .draining: return .failure(.draining)
                case .cancelled: return .failure(.cancelled)
                }
            }
            let free = UnsafeMutableRawBufferPointer(rebasing: input[end...])
            switch await connection.read(into: free, timeout: wait) {
            case let .bytes(count): end += count
            case .closed: return .failure(.closed)
            case .timedOut: return .failure(.timedOut)
            case .draining: return .failure(.draining)
            case .cancelled: return .failure(.cancelled)
            }
        }
    }

    /// Reads the PROXY header that must open the connection. A connection without a valid one is
    /// closed without an answer: nothing trustworthy can be said about who it is from. So is one
    /// from a peer outside `--forwarded-allow-ips`: the header names any client its sender likes,
    /// so only our own proxies may send it.
    private func readProxyHeader() async -> Bool {
        guard ForwardedFor.isTrusted(connection.peerHost, settings.trustedProxies) else {
            await connection.lingeringClose(timeout: .milliseconds(100))
            return false
        }
        takeBuffers()
        let end = EventLoop.current.now &+ UInt64(settings.headerTimeout.nanoseconds)
        while true {
            switch ProxyProtocol.parse(UnsafeRawBufferPointer(rebasing: input[start..<self.end])) {
            case let .header(length, source):
                start += length
                proxiedPeer = source
                return true
            case .invalid:
                await connection.lingeringClose(timeout: .milliseconds(100))
                return false
            case .needMore:
                let now = EventLoop.current.now
                guard now < end, self.end < input.count else { connection.close(); return false }
                let free = UnsafeMutableRawBufferPointer(rebasing: input[self.end...])
                guard case let .bytes(count) = await connection.read(into: free, timeout: .nanoseconds(Int64(end - now))) else {
                    connection.close()
                    return false
                }
                self.end += count
            }
        }
    }

    private func compact() {
        let count = end - start
        if start > 0, count > 0, let base = input.baseAddress { memmove(base, base + start, count) }
        start = 0
        end = count
    }

    /// Reads the next request head; answers and returns nil when there is none to serve.
    ///
    /// `--header-timeout` is one deadline for the whole head, from the accept for a connection's
    /// first request and from the head's first byte for the next ones; the wait for that first
    /// byte on a kept-alive connection is `--keepalive-timeout`.
    private func readHead(firstRequest: Bool) async -> RequestHead? {
        headDeadline = firstRequest ? EventLoop.current.now &+ UInt64(max(0, settings.headerTimeout.nanoseconds)) : 0
        let timeout = firstRequest ? settings.headerTimeout : settings.keepAliveTimeout
        while true {
            switch await nextEvent(timeout: timeout, head: true) {
            case let .success(.head(head)):
                return head
            case .success(.end):
                continue  // the end of a body-less request just served
            case let .success(.error(error)):
                await answer(error)
                return nil
            case .success(.body), .success(.needMore):
                await connection.lingeringClose()  // cannot happen between requests
                return nil
            case let .failure(failure):
                // A client that sent part of a head and went silent gets 408; an idle one is just closed.
                if failure == .timedOut && !parserIsIdle {
                    _ = await write(.text("request timeout\n", status: .requestTimeout), for: nil, keepAlive: false)
                    await connection.lingeringClose()
                }
                return nil
            }
        }
    }

    /// The next piece of the request body, in this connection's own memory.
    func nextBodyPiece() async throws(HTTPServerError) -> UnsafeRawBufferPointer? {
        if awaitingContinue {
            awaitingContinue = false
            let continueLine: StaticString = "HTTP/1.1 100 Continue\r\n\r\n"
            let sent = await connection.write(UnsafeRawBufferPointer(start: continueLine.utf8Start, count: continueLine.utf8CodeUnitCount),
                                              timeout: settings.writeTimeout)
            guard sent else { throw HTTPServerError(kind: .closed) }
        }
        if input.count < ConnectionBuffers.bodySize && start == end { growForBody() }
        switch await nextEvent(timeout: settings.bodyTimeout) {
        case let .success(.body(bytes)): return bytes
        case .success(.end): return nil
        case let .success(.error(error)): throw HTTPServerError(kind: .malformed(error))
        case .success(.head), .success(.needMore): throw HTTPServerError(kind: .closed)  // cannot happen mid-body
        case let .failure(failure):
            switch failure {
            case .timedOut: throw HTTPServerError(kind: .timedOut)
            case .cancelled, .draining: throw HTTPServerError(kind: .cancelled)
            case .closed: throw HTTPServerError(kind: .closed)
            }
        }
    }

    /// Moves what is unparsed into a body-sized buffer from the loop's pool.
    private func growForBody() {
        let bigger = ConnectionBuffers.shared.bodies.take()
        let count = end - start
        if count > 0, let source = input.baseAddress, let target = bigger.baseAddress { memcpy(target, source + start, count) }
        giveInput()
        input = bigger
        start = 0
        end = count
    }

    // MARK: Lent buffers

    /// Whether the parser is between requests (true while none is lent).
    private var parserIsIdle: Bool { lent?.parser.isIdle ?? true }

    /// Takes a parser and an input buffer from the loop, before bytes are read into none.
    private func takeBuffers() {
        if lent == nil {
            lent = ConnectionBuffers.shared.takeParser(limits: settings.limits)
            parserUntouched = true
        }
        if input.count == 0 { input = ConnectionBuffers.shared.heads.take() }
    }

    /// Gives the input buffer back (nothing in it is unparsed, or the connection is done with it),
    /// and the parser too when it is between requests and holds nothing of the client's; a parser
    /// in any other state is dropped with the connection, or kept while it lives.
    private func giveBuffers() {
        giveInput()
        if let box = lent, box.parser.isIdle, parserUntouched {
            ConnectionBuffers.shared.giveParser(box)
            lent = nil
        }
    }

    private func giveInput() {
        let buffers = ConnectionBuffers.shared
        if input.count == ConnectionBuffers.headSize { buffers.heads.give(input) } else { buffers.bodies.give(input) }
        input = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        start = 0
        end = 0
    }

    /// Drops the rest of the body if all of it has arrived already, without reading or waiting.
    /// True when the body ended.
    private func discardBuffered(_ body: RequestBody) -> Bool {
        guard let box = lent else { return false }
        var dropped = 0
        while true {
            let output = box.parser.parse(UnsafeRawBufferPointer(rebasing: input[start..<end]))
            start += output.consumed
            switch output.event {
            case .end:
                parserUntouched = true
                body.isFinished = true
                return true
            case let .body(bytes):
                dropped += bytes.count
                if dropped > settings.maxDiscardedBody { return false }
            case .needMore, .head, .error:
                return false
            }
        }
    }

    /// Whether a body still to come is small enough to read and drop to keep the connection.
    private func worthDiscarding(_ framing: BodyFraming) -> Bool {
        if case let .contentLength(length) = framing { return length <= settings.maxDiscardedBody }
        return true  // chunked: dropped up to the limit, then closed
    }

    /// Reads and drops what the handler left of the body, after the answer went out. False when
    /// the connection must close: the body is larger than worth reading, or it failed.
    private func discardBody(_ body: RequestBody) async -> Bool {
        var dropped = 0
        do {
            while let piece = try await body.next() {
                dropped += piece.count
                if dropped > settings.maxDiscardedBody { return false }
            }
            return true
        } catch {
            return false
        }
    }

    // MARK: Writing

    private func record(_ request: Request, _ response: Response, started: Instant, in log: AccessLog) {
        var bytes = 0
        if request.method != .head && response.status.allowsBody {
            switch response.body {
            case .empty, .stream: bytes = 0
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
    private func answer(_ error: HTTPParseError) async {
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
            let rest = ByteBuffer()
            let ok = bytes.withUnsafeBytes { body -> Bool in
                guard let written = connection.writeNow(head, body) else { return false }
                if written < head.count {
                    rest.append(UnsafeRawBufferPointer(rebasing: head[written...]))
                    rest.append(body)
                } else if written - head.count < body.count {
                    rest.append(UnsafeRawBufferPointer(rebasing: body[(written - head.count)...]))
                }
                return true
            }
            guard ok else { return false }
            return rest.isEmpty ? true : await connection.write(rest.bytes, timeout: settings.writeTimeout)
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
