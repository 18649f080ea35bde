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
final class HTTPConnection: ReadinessListener, WritabilityListener {
    let connection: Connection
    /// Strong, not `unowned`: the service outlives its connections and holds none of them, and an
    /// `unowned` reference costs a check and a retain at each of the dozen uses per request.
    let service: HTTPService
    // Unchecked exclusivity (the check cost ~14% of the instructions per request, DESIGN.md). Safe
    // because no access to these fields overlaps another: no `inout` access spans a suspension point
    // or a call that touches the same field. It is not about threads.
    /// The parser, while lent (nil: idle, or not started). In a box, so that lending it moves a
    /// reference, not the value.
    @exclusivity(unchecked) var lent: ParserBox?
    /// The lent parser has consumed nothing since its last request ended (or since it was lent):
    /// only then may it go back to the free list for another connection (leading empty lines
    /// would leave a count of them behind in it).
    @exclusivity(unchecked) var parserUntouched = true
    /// The input buffer, while lent (empty: none).
    @exclusivity(unchecked) var input = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    /// Unparsed input is `input[start..<end]`.
    @exclusivity(unchecked) var start = 0
    @exclusivity(unchecked) var end = 0
    /// The loop's buffers and request workers, looked up once per connection: a `let` of the
    /// connection's own is used without a retain, a static or a chain of them is not.
    let buffers = ConnectionBuffers.shared
    private let heads = ConnectionBuffers.shared.heads
    let output = ConnectionBuffers.shared.output
    private let workers = RequestWorkers.shared
    /// The request being served asked for `100 Continue`, and it has not been sent yet.
    @exclusivity(unchecked) private var awaitingContinue = false
    /// The loop instant by which the head being read must be complete (0: not started yet).
    @exclusivity(unchecked) var headDeadline: UInt64 = 0
    /// A request has been read (the next head's wait is `--keepalive-timeout`).
    @exclusivity(unchecked) private var servedAny = false
    private var proxyHeaderRead = false
    /// The last request's object, kept for the next request (nothing else held it): a request
    /// allocates no `Request` or `RequestBody` in steady state.
    @exclusivity(unchecked) var spareRequest: Request?
    /// The connection's own task, waiting for the connection to be done (`run`). Touched on the
    /// loop's thread only, from the loop's own callback too (`readinessChanged`).
    nonisolated(unsafe) private var finished: UnsafeContinuation<Void, Never>?
    /// A file response that waits for its client without a task (nil: none).
    @exclusivity(unchecked) private var waitingSend: WaitingSend?
    /// Why the wait for `waitingSend` ended (nil: it has not), set by the loop's callback
    /// (`writabilityChanged`). Read and written on the loop's thread only.
    nonisolated(unsafe) private var sendWakeup: IOWakeup?
    /// The connection waits without a task for the rest of a head: its timeout is answered
    /// (408), unlike an idle connection's. Read and written on the loop's thread only.
    nonisolated(unsafe) private var waitsMidHead = false

    init(connection: Connection, service: HTTPService) {
        self.connection = connection
        self.service = service
    }

    var settings: HTTPSettings { service.settings }

    /// The client named by a PROXY protocol header, which stands for the socket's peer.
    private(set) var proxiedPeer: String?

    /// The peer the forwarding rules start from: the PROXY header's source, else the socket's.
    var peerHost: String { proxiedPeer ?? connection.peerHost }

    /// The connection's own task waits here until the connection is done, holding no more than
    /// its first frames: its requests are served by `RequestWorkers`, and between them it waits
    /// for bytes with no task at all. Gives the buffers back on the way out.
    func run() async {
        headDeadline = EventLoop.current.now &+ UInt64(max(0, settings.headerTimeout.nanoseconds))
        await withUnsafeContinuation { (done: UnsafeContinuation<Void, Never>) in
            finished = done
            waitForBytes(timeout: settings.headerTimeout)
        }
        giveBuffers()
    }

    /// Serves, on a worker, what has arrived: requests until the connection has nothing in hand
    /// (it then waits for its next bytes without the worker), waits for its client to read a
    /// large file (without the worker too), or is done. Inlined into its one
    /// caller (`RequestWorkers.work`): called, it cost a frame and a hop to the loop's executor
    /// per connection served (~220 instructions a request).
    @inline(__always)
    func serveUntilIdle() async {
        if settings.proxyProtocol && !proxyHeaderRead {
            guard await readProxyHeader() else { return finish() }
            proxyHeaderRead = true
        }
        if sendWakeup != nil {
            guard await finishSend() else { return }
        }
        while true {
            if servedAny { headDeadline = 0 }  // a kept-alive connection's head: from its first byte
            var next = headInHand()
            if next == nil { next = await readHead(firstRequest: !servedAny) }
            let head: RequestHead
            switch consume next {  // moved out, not copied: a retain and a release per array
            case let .head(next)?:
                head = next
            case .idle?:
                switch waitIdle() {
                case .waiting: return
                case .ready: continue
                case .done: return finish()
                }
            case let .partial(wait)?:
                // The rest of a head, waited for without a task (a slow client, or a slowloris,
                // holds the parser and what it has of the head, no task frames and no input
                // buffer). Past the deadline, the next turn answers 408 (`readHead`).
                if start == end { giveInput() }
                waitsMidHead = true
                let wakeup = connection.whenReadable(timeout: wait, tell: self)
                guard let wakeup else { return }
                waitsMidHead = false
                if case .cancelled = wakeup { return finish() }
                continue
            case .none?, nil:
                return finish()
            }
            servedAny = true
            // What the rest needs of the head, taken now: the head itself moves into the request.
            awaitingContinue = head.expectContinue
            let framing = head.framing
            let hasBody = framing != .noBody
            let askedKeepAlive = head.keepAlive
            let answering = Answering(head)
            let methodIndex = Self.methodIndex(head.method)
            let request = nextRequest(consume head, hasBody: hasBody)
            // A request without a body needs nothing more of the input buffer while its handler
            // runs, which may await the disk, the blocking pool or another server for long: the
            // buffer goes back to the loop, unless a pipelined request waits in it (1,000 clients
            // asking at once for a file not yet open held 4 KiB each for nothing).
            if !hasBody, start == end { giveInput() }
            let begun = Instant.nowNanoseconds  // for the metrics' duration and the access log
            let response: Response
            if let router = service.router {
                switch router.route(request) {
                case let .route(route): response = await RouterResponder.call(route.handler, with: request)
                case let .answer(answer): response = answer
                }
            } else {
                response = await service.responder.respond(to: request)
            }
            var keepAlive = askedKeepAlive && !EventLoop.current.isDraining
            // The handler answered without reading the whole body. The answer goes out now, never
            // after waiting for the body: a refused upload (503, 413) or a route that takes no body
            // must not hold the connection until the client sends it, and a `100-continue` client
            // sends nothing until it hears back (RFC 9110 §10.1.1: the final status at once).
            var discardAfterAnswer = false
            if !request.body.isFinished && !discardBuffered(request.body) {
                if awaitingContinue || response.status.code >= 400 || !worthDiscarding(framing) {
                    keepAlive = false
                } else {
                    discardAfterAnswer = keepAlive
                }
            }
            awaitingContinue = false
            // A WebSocket's 101 is counted as its session starts (a session may last for hours, and
            // end in a SIGKILL); every other answer once it is written.
            var countedAlready = false
            if response.isWebSocket {
                ServiceStats.shared.served(method: methodIndex, status: response.status.code, begun: begun)
                countedAlready = true
            }
            var written: Bool
            switch writeAtOnce(response, for: answering, keepAlive: keepAlive) {
            case let .finished(ok): written = ok
            case let .file(part):
                // The head went out and the rest of the file waits for the client to read: it is
                // sent from the loop's writable events, without this worker (1,000 clients
                // downloading a large file held a task's frames each, ~4 KiB, for nothing). The
                // input buffer, empty and not read again before the next request (the body is
                // done), goes back to the loop too.
                if start == end, request.body.isFinished { giveInput() }
                let answered = Answered(methodIndex: methodIndex, begun: begun, countedAlready: countedAlready,
                                        discardAfterAnswer: discardAfterAnswer, keepAlive: keepAlive)
                waitingSend = WaitingSend(part: part, request: consume request, response: response, answered: answered)
                connection.holdPartialSegments(true)  // until the last piece: `resumeSend`
                if waitToSend() { return }
                guard await finishSend() else { return }  // closed already: this ends it
                continue
            case let progress:
                // Anything else that waits (a large body from memory, a stream, or a head the
                // socket did not take whole, then its file): this worker waits for it. A file
                // behind part of a head gives the input buffer back meanwhile, as above.
                if progress.waitsToSendFile, start == end, request.body.isFinished { giveInput() }
                written = await finishWriting(progress, response, for: answering, keepAlive: keepAlive)
            }
            account(request, response, method: methodIndex, begun: begun, counted: countedAlready)
            if written && discardAfterAnswer {
                // The next request starts after this body: read and drop it, within reason.
                written = await discardBody(request.body)
                keepAlive = written
            }
            keepForNext(consume request)
            guard written, keepAlive else {
                if keepAlive == false { await connection.lingeringClose() }
                return finish()
            }
            // The common case, decided without another read: nothing of a next request yet.
            if nothingInHand() {
                switch waitIdle() {
                case .waiting: return
                case .ready: continue
                case .done: return finish()
                }
            }
        }
    }

    /// Counts an answered request in the metrics (unless `counted` already), and logs it.
    @inline(__always)
    private func account(_ request: Request, _ response: Response, method: Int, begun: UInt64, counted: Bool) {
        if !counted { ServiceStats.shared.served(method: method, status: response.status.code, begun: begun) }
        if let log = service.accessLog { record(request, response, started: Instant(nanoseconds: begun), in: log) }
    }

    // MARK: Sending a file without a task

    /// What the rest of a request's service needs once its file is sent: plain values, taken
    /// before the response was written.
    struct Answered {
        let methodIndex: Int
        /// When the handler was called (`Instant.nowNanoseconds`): the metrics' duration, the log's.
        let begun: UInt64
        /// A WebSocket's 101, counted as its session started.
        let countedAlready: Bool
        /// The handler left a body small enough to read and drop to keep the connection.
        let discardAfterAnswer: Bool
        let keepAlive: Bool
    }

    /// A file response whose rest waits for its client to read: what is left of the file, and
    /// what the rest of the request's service needs once it is sent.
    struct WaitingSend {
        var part: FilePart
        /// Taken out (`Optional.take`) to be handed on, so that nothing else holds it then and
        /// `keepForNext` can keep it for the next request.
        var request: Request?
        let response: Response
        let answered: Answered
    }

    /// Where `resumeSend` left a waiting file.
    enum SendProgress {
        /// The rest waits for the client again, without a task.
        case waiting
        /// All sent (true), or the connection failed, stalled past `--write-timeout` or was closed
        /// (false): the request's service goes on from there.
        case sent(Request, Response, Answered, Bool)
    }

    /// Has the rest of `waitingSend` wait for room without a task: true when the loop will tell
    /// `writabilityChanged`, false when the connection is closed already (`sendWakeup` says so).
    private func waitToSend() -> Bool {
        guard let wakeup = connection.whenWritable(timeout: settings.writeTimeout, tell: self) else { return true }
        sendWakeup = wakeup
        return false
    }

    /// Called by the loop, on its thread, when the socket has room for more of `waitingSend` (or
    /// the wait ended): a worker goes on with it (`finishSend`).
    nonisolated func writabilityChanged(_ wakeup: IOWakeup) {
        sendWakeup = wakeup
        workers.serve(self)
    }

    /// Sends what the socket takes now of `waitingSend`.
    private func resumeSend() -> SendProgress {
        guard var send = waitingSend.take(), let request = send.request.take() else { return .waiting }  // cannot be: there is one
        let wakeup = sendWakeup ?? .ready
        sendWakeup = nil
        guard case .ready = wakeup,
              let sent = connection.sendFileNow(send.part.file.fd, offset: send.part.offset, length: send.part.length)
        else { return .sent(request, send.response, send.answered, false) }
        guard sent < send.part.length else {
            connection.holdPartialSegments(false)  // the file's tail goes out now, and the next answer at once
            return .sent(request, send.response, send.answered, true)
        }
        send.part = FilePart(file: send.part.file, offset: send.part.offset + sent, length: send.part.length - sent)
        send.request = request
        waitingSend = send
        return waitToSend() ? .waiting : resumeSend()
    }

    /// Goes on with a waiting file once the loop said the socket has room (or the wait ended);
    /// once it is all sent, or failed, does what `serveUntilIdle` does after any answer. True when
    /// the connection is to serve on (its next request is read, or waited for, as usual); false
    /// when it waits for its client again, or is finished. Out of line: it runs once per writable
    /// event of a large file, not per request.
    @inline(never)
    private func finishSend() async -> Bool {
        guard case let .sent(request, response, answered, sent) = resumeSend() else { return false }
        var written = sent
        var keepAlive = answered.keepAlive
        account(request, response, method: answered.methodIndex, begun: answered.begun, counted: answered.countedAlready)
        if written && answered.discardAfterAnswer {
            written = await discardBody(request.body)
            keepAlive = written
        }
        keepForNext(consume request)
        guard written, keepAlive else {
            if keepAlive == false { await connection.lingeringClose() }
            finish()
            return false
        }
        return true
    }

    // MARK: Waiting without a task

    /// How long the connection may now wait for its next bytes: until the first head's deadline
    /// (from the accept), then `--keepalive-timeout`.
    private var idleNanoseconds: Int64 {
        guard !servedAny else { return service.keepAliveNanoseconds }
        let now = EventLoop.current.now
        return Int64(headDeadline > now ? headDeadline - now : 0)
    }

    /// After a response: whether nothing of a next request is in hand (nothing buffered, the
    /// socket drained at the last read), and then the buffers are given back. Takes the end of a
    /// body-less request, which the parser reports after its head.
    private func nothingInHand() -> Bool {
        guard start == end, !connection.mayHaveInput, let box = lent else { return false }
        // With no input, the parser can only report that end (once), or that it needs more.
        if case .end = box.parser.parse(UnsafeRawBufferPointer(start: nil, count: 0)).event { parserUntouched = true }
        guard box.parser.isIdle else { return false }
        giveInput()
        if parserUntouched {
            buffers.giveParser(box)
            lent = nil
        }
        giveSpareRequest()
        return true
    }

    private enum IdleWait {
        /// The connection waits for its next bytes without a task.
        case waiting
        /// Bytes are there already: serve them.
        case ready
        /// Closed, or past its timeout.
        case done
    }

    /// Has the connection wait for its next bytes without this task.
    private func waitIdle() -> IdleWait {
        switch connection.whenReadable(timeoutNanoseconds: idleNanoseconds, tell: self) {
        case nil: return .waiting
        case .ready?, .draining?: return .ready
        case .timedOut?, .cancelled?: return .done
        }
    }

    /// Waits for bytes without a task (or hands the connection to a worker at once).
    private func waitForBytes(timeout: Duration) {
        if let wakeup = connection.whenReadable(timeout: timeout, tell: self) { readinessChanged(wakeup) }
    }

    /// Called by the loop, on its thread (nonisolated, so that the hot path needs no isolation
    /// check: `LoopActor.assumeIsolated` allocates a closure context per call).
    nonisolated func readinessChanged(_ wakeup: IOWakeup) {
        let midHead = waitsMidHead
        waitsMidHead = false
        switch wakeup {
        case .ready, .draining: workers.serve(self)
        case .timedOut where midHead: workers.serve(self)  // a head cut short: it gets 408
        case .timedOut, .cancelled: finish()  // idle past its timeout, or closed: nothing to answer
        }
    }

    /// The connection is done: its own task goes on (and the worker that called this, if one
    /// did, goes on to other connections).
    private nonisolated func finish() {
        guard let done = finished else { return }
        finished = nil
        done.resume()
    }

    // MARK: Reading

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

    func compact() {
        let count = end - start
        if start > 0, count > 0, let base = input.baseAddress { memmove(base, base + start, count) }
        start = 0
        end = count
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
        case .success(.end):
            parserUntouched = true
            return nil
        case let .success(.error(error)): throw HTTPServerError(kind: .malformed(error))
        case .success(.head), .success(.needMore): throw HTTPServerError(kind: .closed)  // cannot happen mid-body
        case let .failure(failure):
            switch failure {
            case .timedOut: throw HTTPServerError(kind: .timedOut)
            case .cancelled, .draining: throw HTTPServerError(kind: .cancelled)
            case .closed, .idle: throw HTTPServerError(kind: .closed)  // idle: cannot happen mid-body
            }
        }
    }

    /// Moves what is unparsed into a body-sized buffer from the loop's pool.
    private func growForBody() {
        let bigger = buffers.bodies.take()
        let count = end - start
        if count > 0, let source = input.baseAddress, let target = bigger.baseAddress { memcpy(target, source + start, count) }
        giveInput()
        input = bigger
        start = 0
        end = count
    }

    // MARK: Lent buffers

    /// Whether the parser is between requests (true while none is lent).
    var parserIsIdle: Bool { lent?.parser.isIdle ?? true }

    /// Takes a parser and an input buffer from the loop, before bytes are read into none.
    func takeBuffers() {
        if lent == nil {
            lent = buffers.takeParser(limits: service.settings.limits)
            parserUntouched = true
        }
        if input.count == 0 { input = heads.take() }
    }

    /// Gives the input buffer back (nothing in it is unparsed, or the connection is done with it),
    /// and the parser too when it is between requests and holds nothing of the client's; a parser
    /// in any other state is dropped with the connection, or kept while it lives.
    func giveBuffers() {
        giveInput()
        if parserUntouched, let box = lent, box.parser.isIdle {
            buffers.giveParser(box)
            lent = nil
        }
        giveSpareRequest()
    }

    private func giveInput() {
        guard input.count > 0 else { return }  // none lent: given back already
        if input.count == ConnectionBuffers.headSize { heads.give(input) } else { buffers.bodies.give(input) }
        input = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        start = 0
        end = 0
    }

    /// Drops the rest of the body if all of it has arrived already, without reading or waiting.
    /// True when the body ended.
    private func discardBuffered(_ body: RequestBody) -> Bool {
        guard lent != nil else { return false }
        var dropped = 0
        while true {
            let output = lent.unsafelyUnwrapped.parser.parse(UnsafeRawBufferPointer(rebasing: input[start..<end]))
            start += output.consumed
            switch output.event {
            case .end:
                parserUntouched = true
                body.isFinished = true
                body.wasDropped = true
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
        defer { body.wasDropped = true }
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
}
