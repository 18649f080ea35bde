/// How the end of a response's body is found (RFC 9112 §6.3), decided from its head and the
/// request's method.
public enum ResponseFraming: Sendable, Equatable {
    /// A response to HEAD, a 1xx, 204 or 304: the response ends with its head.
    case noBody
    /// Exactly this many bytes follow the head.
    case contentLength(Int)
    /// `Transfer-Encoding: chunked`.
    case chunked
    /// Neither: the body is everything until the server closes the connection, which then
    /// cannot be reused.
    case untilClose
}

/// A response's head: the status line, the header fields, and what the parser concluded.
///
/// Like `RequestHead`, it owns a copy of the head's bytes (the reason phrase among them).
public struct ResponseHead: Sendable, Equatable {
    public let version: HTTPVersion
    /// The status code, 100 to 599.
    public let status: Int
    public let headers: HTTPHeaders
    /// How the body is delimited: the parser delivers it, this is for the caller.
    public internal(set) var framing: ResponseFraming
    /// What the fields say (HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with `keep-alive`).
    let persistent: Bool
    let reasonRange: Range<Int>

    /// The reason phrase as sent (`OK`), possibly empty; RFC 9112 §4 says a client should ignore it.
    public var reason: String { headers.string(reasonRange) }

    /// Whether the connection may carry another request once this response has been read: the
    /// fields allow it and the body does not run until the close.
    public var keepAlive: Bool { persistent && framing != .untilClose }
}
