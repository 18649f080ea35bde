/// Why a request failed: what happened, to which URL, in words a log line can carry as is.
///
/// A struct with a `Code` rather than an enum of payloads (swift-system's shape): callers switch
/// on `code` to decide (retry on `connect`, report on `truncated`), and print `description`.
public struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The URL cannot be used: not `http://` or `http+unix://`, a bad host, port or path.
        case invalidURL
        /// `https://`: this client does not speak TLS (the reverse proxy terminates it).
        case unsupportedScheme
        /// The request cannot be sent as given (a header that would break the framing).
        case invalidRequest
        /// The host name did not resolve.
        case resolution
        /// No connection: refused, unreachable, or not within the connect timeout.
        case connect
        /// No byte from the server within the read timeout (or it read nothing of ours).
        case readTimeout
        /// The whole exchange took longer than the total timeout.
        case totalTimeout
        /// The server reset the connection, or it failed in another way mid-exchange.
        case connectionFailed
        /// The server closed the connection before the response was complete.
        case truncated
        /// The response is not valid HTTP/1.1 (status line, fields, framing, chunks).
        case malformedResponse
        /// The body is longer than the caller's `collect(upTo:)` limit.
        case responseTooLarge
        /// The request body's stream threw, or gave another length than it declared.
        case requestBody
        /// The loop is shutting down: the exchange was abandoned.
        case cancelled
    }

    public let code: Code
    /// `GET http://127.0.0.1:8080/a: the server closed the connection … (after 4096 body bytes)`.
    public let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
