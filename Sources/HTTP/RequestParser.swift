/// A strict, incremental HTTP/1.1 request parser (RFC 9112, RFC 9110): a value that the
/// connection feeds with whatever each read returned.
///
/// Each call to `parse(_:)` consumes some of the bytes it is given and reports one event. The
/// caller passes the bytes after `consumed` to the next call, until the event is `.needMore`
/// (everything was consumed; read again) or a closing error. A request comes out as `.head`, zero or
/// more `.body` slices, then `.end`; the bytes after `.end` belong to the next (pipelined) request,
/// which the same parser then reads:
///
///     var offset = 0
///     parsing: while true {
///         let output = parser.parse(UnsafeRawBufferPointer(rebasing: buffer[offset..<count]))
///         offset += output.consumed
///         switch output.event {
///         case .needMore: break parsing
///         case .head(let head): …
///         case .body(let bytes): …   // a slice of `buffer`: use it before the next read
///         case .end: …               // `buffer[offset..<count]` is the next request's
///         case .error(let error): …  // answer `error.status`; close if `error.closesConnection`
///         }
///     }
///
/// The input is only read during the call: the head is copied into the parser's own buffer as it
/// arrives, and body slices point into the input, so the caller's read buffer can be reused after
/// each call. The same bytes produce the same events however they are split (the tests feed every
/// request split at every byte). See `HeadAssembler` and `ChunkedDecoder` for the strictness rules
/// and the choices made where the RFC allows either.
public struct RequestParser: Sendable {
    /// What one call to `parse(_:)` produced.
    public enum Event {
        /// All the input was consumed and more is needed to make progress.
        case needMore
        /// A complete, validated request head. For a body-less request, `.end` follows.
        case head(RequestHead)
        /// Body bytes, after chunked decoding: a non-empty slice of the input to this call, valid
        /// only until the caller's buffer is reused.
        case body(UnsafeRawBufferPointer)
        /// The request (head and body) is complete.
        case end
        /// The request is invalid. After a closing error every later call repeats it. After a 417
        /// (which does not close), the parser skips the body silently, reports `.end`, and goes on
        /// to the next request.
        case error(HTTPParseError)
    }

    /// The outcome of one call: how many input bytes it consumed, and the event.
    public struct Output {
        public let consumed: Int
        public let event: Event
    }

    private enum State: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkedBody
        case endPending
        case failed(HTTPParseError)
    }

    public let limits: Limits
    private var state = State.head
    private var assembler: HeadAssembler<RequestStartLine>
    private var chunked: ChunkedDecoder
    /// After a 417: consume the body without reporting it.
    private var discardingBody = false

    public init(limits: Limits = Limits()) {
        self.limits = limits
        assembler = HeadAssembler(limits: limits)
        chunked = ChunkedDecoder(limits: limits)
    }

    /// Whether the parser is between requests: nothing of a next request has arrived yet (leading
    /// empty lines aside). A connection that is idle by this measure may be closed on a drain or
    /// an idle timeout without failing a request.
    ///
    /// Stored, updated by each `parse`: a computed property read through a class (the server's
    /// parser box) from another module copied the whole parser first, ~170 instructions a request.
    public private(set) var isIdle = true

    /// Consumes a prefix of `bytes` and reports what it completed. See the type's documentation.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) -> Output {
        let output = step(bytes)
        if case .head = state { isIdle = !assembler.hasPartialHead } else { isIdle = false }
        return output
    }

    private mutating func step(_ bytes: UnsafeRawBufferPointer) -> Output {
        switch state {
        case .head:
            return parseHead(bytes)
        case .fixedBody(let remaining):
            return parseFixedBody(bytes, remaining: remaining)
        case .chunkedBody:
            return parseChunkedBody(bytes)
        case .endPending:
            finishMessage()
            return Output(consumed: 0, event: .end)
        case .failed(let error):
            return Output(consumed: 0, event: .error(error))
        }
    }

    private mutating func parseHead(_ bytes: UnsafeRawBufferPointer) -> Output {
        let (consumed, outcome) = assembler.feed(bytes)
        switch consume outcome {
        case .needMore: return Output(consumed: consumed, event: .needMore)
        case .error(let error): return fail(error, consumed: consumed)
        case .complete(let completed): return begin(completed, consumed: consumed)
        }
    }

    /// A head is complete: apply the body limit, then set up the body's framing. A 417 is decided
    /// last, once the framing is known to be sound, because only then can the body be skipped and
    /// the connection kept.
    /// `consuming`: the head moves into the output (a copy of it cost ~200 instructions a request).
    private mutating func begin(_ completed: consuming RequestStartLine.Completed, consumed: Int) -> Output {
        let head = completed.head
        switch head.framing {
        case .noBody, .contentLength(0):
            state = .endPending
        case .contentLength(let length):
            guard length <= limits.maxBodyLength else { return fail(.bodyTooLarge, consumed: consumed) }
            state = .fixedBody(remaining: length)
        case .chunked:
            chunked = ChunkedDecoder(limits: limits)
            state = .chunkedBody
        }
        guard !completed.unsupportedExpectation else {
            let error = HTTPParseError.expectationFailed(closesConnection: !head.keepAlive)
            guard !error.closesConnection else { return fail(error, consumed: consumed) }
            discardingBody = true
            return Output(consumed: consumed, event: .error(error))
        }
        return Output(consumed: consumed, event: .head(head))
    }

    private mutating func parseFixedBody(_ bytes: UnsafeRawBufferPointer, remaining: Int) -> Output {
        guard !bytes.isEmpty else { return Output(consumed: 0, event: .needMore) }
        let count = min(remaining, bytes.count)
        let left = remaining - count
        state = left == 0 ? .endPending : .fixedBody(remaining: left)
        guard discardingBody else {
            return Output(consumed: count, event: .body(UnsafeRawBufferPointer(rebasing: bytes[0..<count])))
        }
        guard left == 0 else { return Output(consumed: count, event: .needMore) }
        finishMessage()
        return Output(consumed: count, event: .end)
    }

    private mutating func parseChunkedBody(_ bytes: UnsafeRawBufferPointer) -> Output {
        var position = 0
        while true {
            let (consumed, output) = chunked.decode(UnsafeRawBufferPointer(rebasing: bytes[position...]))
            position += consumed
            switch output {
            case .needMore:
                return Output(consumed: position, event: .needMore)
            case .data(let data):
                if discardingBody { continue }
                return Output(consumed: position, event: .body(data))
            case .end:
                finishMessage()
                return Output(consumed: position, event: .end)
            case .error(let error):
                return fail(error, consumed: position)
            }
        }
    }

    private mutating func finishMessage() {
        state = .head
        discardingBody = false
    }

    private mutating func fail(_ error: HTTPParseError, consumed: Int) -> Output {
        state = .failed(error)
        return Output(consumed: consumed, event: .error(error))
    }
}
