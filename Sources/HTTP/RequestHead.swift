/// A request's head: the request line, the header fields, and what the parser concluded from them.
///
/// It owns a copy of the head's bytes, so it outlives the read buffer the request arrived in. The
/// conclusions (framing, keep-alive, `100-continue`, host) are made once, by the parser, following
/// RFC 9112; a handler should use them rather than read the raw fields again.
public struct RequestHead: Sendable, Equatable {
    public let method: HTTPMethod
    public let version: HTTPVersion
    public let headers: HTTPHeaders
    /// How the body is delimited. The parser delivers the body itself; this is for the handler.
    public let framing: BodyFraming
    /// Whether the connection may carry another request after this one: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive` (and no `close`).
    public let keepAlive: Bool
    /// `Expect: 100-continue` on an HTTP/1.1 request: send `100 Continue` before reading the body.
    /// (An HTTP/1.0 client cannot understand 100, so there it is ignored, RFC 9110 §10.1.1.)
    public let expectContinue: Bool
    /// Where the request-target lies in `bytes`.
    package let targetRange: Range<Int>
    let hostField: Int?

    /// The head's bytes as received, which `targetRange` and the fields index: the server's router
    /// matches the path in them, where it lies.
    package var bytes: [UInt8] { headers.storage }

    init(method: HTTPMethod, version: HTTPVersion, headers: HTTPHeaders, framing: BodyFraming, keepAlive: Bool,
         expectContinue: Bool, targetRange: Range<Int>, hostField: Int?) {
        self.method = method
        self.version = version
        self.headers = headers
        self.framing = framing
        self.keepAlive = keepAlive
        self.expectContinue = expectContinue
        self.targetRange = targetRange
        self.hostField = hostField
    }

    /// `GET /`, no fields: what a reused request object answers in the instant between two
    /// requests, which no handler sees (the server's own stand-in; nothing of a client's).
    package static let placeholder = RequestHead(
        method: .get, version: .http11, headers: HTTPHeaders(storage: Array("/".utf8), fields: []), framing: .noBody,
        keepAlive: true, expectContinue: false, targetRange: 0..<1, hostField: nil)

    /// The request-target as sent (visible ASCII only: the parser refuses anything else), for
    /// example `/files/a%20b?x=1`, `*` or `http://example.com/`. Not decoded.
    public var target: String { headers.string(targetRange) }

    /// The `Host` field's value (there is at most one), or nil on an HTTP/1.0 request without one.
    /// For an absolute-form target, RFC 9112 §3.2.2 says the target's authority wins over this.
    public var host: String? { hostField.map { headers.string(headers.fields[$0].value) } }
}
