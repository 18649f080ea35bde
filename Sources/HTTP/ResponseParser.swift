/// A strict, incremental HTTP/1.1 response parser (RFC 9112): the client's side of
/// `RequestParser`, with the same field-line rules and limits (`HeadAssembler`, `FieldFacts`,
/// `ChunkedDecoder`), fed the same way:
///
///     parser.expectResponse(to: .get)         // before each response: HEAD's has no body
///     let output = parser.parse(bytes)        // .needMore, .head, .body(slice), .end, .error
///     …
///     let last = parser.finish()              // the server closed: .end, or why it is truncated
///
/// A body comes out as slices of the input (never copied, never accumulated), so a 13 MB body
/// costs the caller's read buffer and nothing more. The end of a close-delimited body is only
/// known from the close, so `finish()` reports it; for every other framing a close before the end
/// is an error (`truncatedBody`), never a short body that looks complete. Interim responses (1xx
/// but 101) are read and dropped. Trailer fields are validated and discarded, as on the request side.
public struct ResponseParser: Sendable {
    public enum Event {
        /// All the input was consumed and more is needed to make progress.
        case needMore
        /// A complete, validated response head. For a response without a body, `.end` follows.
        case head(ResponseHead)
        /// Body bytes, after chunked decoding: a non-empty slice of the input to this call.
        case body(UnsafeRawBufferPointer)
        /// The response is complete.
        case end
        /// The response is invalid; every later call repeats the error. The connection must close.
        case error(HTTPParseError)
    }

    public struct Output {
        public let consumed: Int
        public let event: Event
    }

    /// The request-side limits, read for a response: `maxRequestLineLength` bounds the status line,
    /// `maxBodyLength` the body (no bound by default: the client streams it, and its caller sets
    /// the limit on what it collects).
    public typealias Limits = RequestParser.Limits

    private enum State: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkedBody
        case untilClose
        case endPending
        case failed(HTTPParseError)
    }

    public let limits: Limits
    private var state = State.head
    private var assembler: HeadAssembler<ResponseStartLine>
    private var chunked: ChunkedDecoder
    private var requestWasHead = false

    public init(limits: Limits = Limits(maxBodyLength: .max)) {
        self.limits = limits
        assembler = HeadAssembler(limits: limits)
        chunked = ChunkedDecoder(limits: limits)
    }

    /// Tells the parser what the response answers: a response to HEAD has no body, whatever its
    /// `Content-Length` says (RFC 9110 §9.3.2). Call before each response's first byte.
    public mutating func expectResponse(to method: HTTPMethod) {
        requestWasHead = method == .head
    }

    /// Whether any byte of a response has arrived since the last one ended.
    public var hasPartialResponse: Bool {
        guard case .head = state else { return true }
        return assembler.hasPartialHead
    }

    /// Consumes a prefix of `bytes` and reports what it completed (see `RequestParser.parse`).
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) -> Output {
        switch state {
        case .head:
            return parseHead(bytes)
        case .fixedBody(let remaining):
            guard !bytes.isEmpty else { return Output(consumed: 0, event: .needMore) }
            let count = min(remaining, bytes.count)
            state = remaining == count ? .endPending : .fixedBody(remaining: remaining - count)
            return Output(consumed: count, event: .body(UnsafeRawBufferPointer(rebasing: bytes[0..<count])))
        case .chunkedBody:
            return parseChunkedBody(bytes)
        case .untilClose:
            guard !bytes.isEmpty else { return Output(consumed: 0, event: .needMore) }
            return Output(consumed: bytes.count, event: .body(bytes))
        case .endPending:
            state = .head
            return Output(consumed: 0, event: .end)
        case .failed(let error):
            return Output(consumed: 0, event: .error(error))
        }
    }

    /// The server closed the connection (end of stream): `.end` when that is how the body ends
    /// (or it already had), otherwise the error that says what was cut.
    public mutating func finish() -> Event {
        switch state {
        case .untilClose, .endPending:
            state = .head
            return .end
        case .head:
            return fail(assembler.hasPartialHead ? .truncatedHead : .closedBeforeResponse)
        case .fixedBody, .chunkedBody:
            return fail(.truncatedBody)
        case .failed(let error):
            return .error(error)
        }
    }

    private mutating func parseHead(_ bytes: UnsafeRawBufferPointer) -> Output {
        var position = 0
        while true {
            let (consumed, outcome) = assembler.feed(UnsafeRawBufferPointer(rebasing: bytes[position...]))
            position += consumed
            switch outcome {
            case .needMore:
                return Output(consumed: position, event: .needMore)
            case .error(let error):
                return Output(consumed: position, event: fail(error))
            case .complete(var head):
                if head.status == 101 { return Output(consumed: position, event: fail(.unexpectedSwitchingProtocols)) }
                if head.status < 200 { continue }  // 100 Continue, 103 Early Hints: the final response follows.
                if let error = begin(&head) { return Output(consumed: position, event: fail(error)) }
                return Output(consumed: position, event: .head(head))
            }
        }
    }

    /// RFC 9112 §6.3 items 1 and 2: HEAD, 204 and 304 have no body whatever the fields say.
    /// A declared length over the limit is refused before a byte of the body is read.
    private mutating func begin(_ head: inout ResponseHead) -> HTTPParseError? {
        if requestWasHead || head.status == 204 || head.status == 304 { head.framing = .noBody }
        switch head.framing {
        case .noBody, .contentLength(0): state = .endPending
        case .contentLength(let length):
            guard length <= limits.maxBodyLength else { return .responseBodyTooLarge }
            state = .fixedBody(remaining: length)
        case .chunked:
            chunked = ChunkedDecoder(limits: limits)
            state = .chunkedBody
        case .untilClose: state = .untilClose
        }
        return nil
    }

    private mutating func parseChunkedBody(_ bytes: UnsafeRawBufferPointer) -> Output {
        let (consumed, output) = chunked.decode(bytes)
        switch output {
        case .needMore: return Output(consumed: consumed, event: .needMore)
        case .data(let data): return Output(consumed: consumed, event: .body(data))
        case .end:
            state = .head
            return Output(consumed: consumed, event: .end)
        case .error(let error): return Output(consumed: consumed, event: fail(error))
        }
    }

    private mutating func fail(_ error: HTTPParseError) -> Event {
        state = .failed(error)
        return .error(error)
    }
}
