import EventLoop

/// A response a handler returns. The server adds `Date`, `Server`, framing (`Content-Length` or
/// chunked) and `Connection`.
public struct Response: Sendable {
    public enum Body: Sendable {
        case empty
        case bytes([UInt8])
        /// `length` bytes of an open file from `offset`, sent with `sendfile(2)`. The `OpenFile`
        /// owns the descriptor and closes it once the last response holding it is gone, sent or
        /// not. `length` is known, so it is framed with `Content-Length`.
        case file(OpenFile, offset: Int = 0, length: Int)
        /// Produced as it goes, of unknown length: sent chunked (HTTP/1.1) or until close (1.0).
        case stream(@Sendable @LoopActor (BodyWriter) async throws -> Void)
        /// A `101 Switching Protocols` to a WebSocket: once it is written, the session owns the
        /// socket (`Router.webSocket` makes it).
        case webSocket(WebSocketHandoff)
    }

    /// What the server sends: a `Body`, or the string of `.text`/`.html`, kept as it is so that it
    /// is written straight from its UTF-8 (a `[UInt8]` copy was the hello route's one allocation
    /// per request). Internal, so `Body` keeps its cases and users' exhaustive switches compile.
    enum Content: Sendable {
        case body(Body)
        case utf8(String)
    }

    public var status: Status
    /// Fields to send besides those the server adds. Changing them drops `prepared`.
    public var headers: [(name: String, value: String)] {
        didSet { prepared = nil }
    }
    /// `headers` already encoded, when the response was made from `PreparedHeaders`.
    private(set) var prepared: [UInt8]?
    var content: Content

    /// The body as a `Body`: a string's bytes are copied into `.bytes` only when read here.
    public var body: Body {
        get {
            switch content {
            case let .body(body): body
            case let .utf8(string): .bytes(Array(string.utf8))
            }
        }
        set { content = .body(newValue) }
    }

    /// Whether it hands the connection to a WebSocket session; asked per request, so it looks at
    /// `content` (reading `body` would copy a string's bytes).
    var isWebSocket: Bool {
        if case .body(.webSocket) = content { return true }
        return false
    }

    public init(status: Status = .ok, headers: [(name: String, value: String)] = [], body: Body = .empty) {
        self.status = status
        self.headers = headers
        self.content = .body(body)
    }

    /// A response whose fields were encoded once (`PreparedHeaders`).
    public init(status: Status = .ok, headers: PreparedHeaders, body: Body = .empty) {
        self.status = status
        self.headers = headers.fields
        self.prepared = headers.encoded
        self.content = .body(body)
    }

    init(status: Status, headers: PreparedHeaders, utf8: String) {
        self.status = status
        self.headers = headers.fields
        self.prepared = headers.encoded
        self.content = .utf8(utf8)
    }

    private static let plainText = PreparedHeaders([("Content-Type", "text/plain; charset=utf-8")])
    private static let htmlText = PreparedHeaders([("Content-Type", "text/html; charset=utf-8")])

    /// A text response (`text/plain; charset=utf-8`).
    public static func text(_ text: String, status: Status = .ok) -> Response {
        Response(status: status, headers: plainText, utf8: text)
    }

    /// An HTML response.
    public static func html(_ html: String, status: Status = .ok) -> Response {
        Response(status: status, headers: htmlText, utf8: html)
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// Where a streamed body goes: each `write` becomes one chunk. `write(String)` is there too
/// (BodyWriter.swift).
@LoopActor
public protocol BodyWriter {
    /// The bytes must stay valid until the call returns (a `ByteBuffer`'s, say).
    func write(_ bytes: UnsafeRawBufferPointer) async throws
    /// The bytes are copied once, so any array will do.
    func write(_ bytes: [UInt8]) async throws
}
