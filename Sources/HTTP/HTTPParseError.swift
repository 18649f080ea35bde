/// Why a request cannot be served, as the answer the server should send.
///
/// Each error names the status to answer and a short, fixed reason (for the log line and the
/// response body; it never echoes client bytes). `closesConnection` says whether the connection may
/// carry another request afterwards. Every error closes except `417`: once the parser refuses a
/// head or cannot tell where a message ends, any byte that follows could be a request smuggled past
/// the proxy in front of us, so the only safe reply is the error and a (lingering) close.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The statuses the parser answers with (RFC 9110 §15).
    public enum Status: Int, Sendable {
        case badRequest = 400
        case contentTooLarge = 413
        case uriTooLong = 414
        case expectationFailed = 417
        case requestHeaderFieldsTooLarge = 431
        case notImplemented = 501
        case httpVersionNotSupported = 505
        /// A response the client cannot use (what a proxy would answer for it).
        case badGateway = 502

        /// The reason phrase for the status line.
        public var reasonPhrase: String {
            switch self {
            case .badRequest: "Bad Request"
            case .contentTooLarge: "Content Too Large"
            case .uriTooLong: "URI Too Long"
            case .expectationFailed: "Expectation Failed"
            case .requestHeaderFieldsTooLarge: "Request Header Fields Too Large"
            case .notImplemented: "Not Implemented"
            case .httpVersionNotSupported: "HTTP Version Not Supported"
            case .badGateway: "Bad Gateway"
            }
        }
    }

    public let status: Status
    /// What was wrong, in a few words: `"invalid Content-Length"`.
    public let reason: String
    /// Whether the server must close the connection after answering.
    public let closesConnection: Bool

    init(_ status: Status, _ reason: String, closesConnection: Bool = true) {
        self.status = status
        self.reason = reason
        self.closesConnection = closesConnection
    }

    /// The numeric status code: 400, 413, …
    public var code: Int { status.rawValue }

    public var description: String { "\(code) \(reason)" }
}

extension HTTPParseError {
    // Line structure (RFC 9112 §2.2).
    static let bareLF = HTTPParseError(.badRequest, "line not terminated by CRLF")
    static let bareCR = HTTPParseError(.badRequest, "CR not followed by LF")
    static let tooManyEmptyLines = HTTPParseError(.badRequest, "too many empty lines before the request line")

    // Request line (RFC 9112 §3).
    static let requestLineTooLong = HTTPParseError(.uriTooLong, "request line too long")
    static let emptyMethod = HTTPParseError(.badRequest, "empty method")
    static let invalidMethod = HTTPParseError(.badRequest, "invalid character in method")
    static let malformedRequestLine = HTTPParseError(.badRequest, "malformed request line")
    static let invalidTarget = HTTPParseError(.badRequest, "invalid character in request-target")
    static let invalidTargetForm = HTTPParseError(.badRequest, "request-target form not allowed for the method")
    static let invalidVersion = HTTPParseError(.badRequest, "malformed HTTP version")
    static let unsupportedVersion = HTTPParseError(.httpVersionNotSupported, "HTTP version not supported")

    // Field lines (RFC 9112 §5).
    static let headerBlockTooLarge = HTTPParseError(.requestHeaderFieldsTooLarge, "header section too large")
    static let tooManyHeaders = HTTPParseError(.requestHeaderFieldsTooLarge, "too many header fields")
    static let whitespaceBeforeFirstField = HTTPParseError(.badRequest, "whitespace before the first header field")
    static let obsoleteLineFolding = HTTPParseError(.badRequest, "obsolete line folding")
    static let whitespaceInFieldName = HTTPParseError(.badRequest, "whitespace in field name or before colon")
    static let invalidFieldName = HTTPParseError(.badRequest, "invalid character in field name")
    static let missingColon = HTTPParseError(.badRequest, "header field without colon")
    static let emptyFieldName = HTTPParseError(.badRequest, "empty field name")
    static let invalidFieldValue = HTTPParseError(.badRequest, "invalid character in field value")

    // Fields with a meaning for the parser (RFC 9110, RFC 9112 §6).
    static let missingHost = HTTPParseError(.badRequest, "missing Host header")
    static let multipleHosts = HTTPParseError(.badRequest, "more than one Host header")
    static let invalidHost = HTTPParseError(.badRequest, "invalid Host header")
    static let invalidContentLength = HTTPParseError(.badRequest, "invalid Content-Length")
    static let duplicateContentLength = HTTPParseError(.badRequest, "more than one Content-Length")
    static let contentLengthOverflow = HTTPParseError(.badRequest, "Content-Length out of range")
    static let contentLengthWithTransferEncoding = HTTPParseError(.badRequest, "both Content-Length and Transfer-Encoding")
    static let transferEncodingInHTTP10 = HTTPParseError(.badRequest, "Transfer-Encoding in an HTTP/1.0 request")
    static let emptyTransferEncoding = HTTPParseError(.badRequest, "empty Transfer-Encoding")
    static let chunkedAppliedTwice = HTTPParseError(.badRequest, "chunked applied more than once")
    static let unsupportedTransferCoding = HTTPParseError(.notImplemented, "unsupported transfer coding")
    static let chunkedNotFinal = HTTPParseError(.badRequest, "chunked is not the final transfer coding")
    static let bodyTooLarge = HTTPParseError(.contentTooLarge, "request body too large")

    /// An `Expect` other than `100-continue`. The head itself was valid and its framing known, so
    /// the parser can skip the body and the connection may stay open, unless the client asked to
    /// close it anyway.
    static func expectationFailed(closesConnection: Bool) -> HTTPParseError {
        HTTPParseError(.expectationFailed, "unsupported expectation", closesConnection: closesConnection)
    }

    // Chunked body (RFC 9112 §7.1).
    static let invalidChunkSize = HTTPParseError(.badRequest, "invalid chunk size")
    static let chunkSizeOverflow = HTTPParseError(.badRequest, "chunk size out of range")
    static let invalidChunkExtension = HTTPParseError(.badRequest, "invalid chunk extension")
    static let chunkLineTooLong = HTTPParseError(.badRequest, "chunk-size line too long")
    static let missingChunkDataCRLF = HTTPParseError(.badRequest, "missing CRLF after chunk data")
    static let invalidTrailer = HTTPParseError(.badRequest, "invalid trailer field")
    static let trailerBlockTooLarge = HTTPParseError(.requestHeaderFieldsTooLarge, "trailer section too large")
}

extension HTTPParseError {
    // Responses (RFC 9112 §4), read by the client: the reason is what matters, the status is the
    // 502 a proxy would answer for such a response.
    static let statusLineTooLong = HTTPParseError(.badGateway, "status line too long")
    static let malformedStatusLine = HTTPParseError(.badGateway, "malformed status line")
    static let invalidStatusCode = HTTPParseError(.badGateway, "invalid status code")
    static let unsupportedResponseVersion = HTTPParseError(.badGateway, "response HTTP version not supported")
    static let unexpectedSwitchingProtocols = HTTPParseError(.badGateway, "101 Switching Protocols to a request that asked for no upgrade")
    static let closedBeforeResponse = HTTPParseError(.badGateway, "connection closed before a response")
    static let truncatedHead = HTTPParseError(.badGateway, "connection closed in the middle of the response head")
    static let responseBodyTooLarge = HTTPParseError(.badGateway, "response body over the limit")
    static let truncatedBody = HTTPParseError(.badGateway, "connection closed before the end of the response body")

    /// Whether the server closed the connection before sending any byte of a response: on a
    /// reused keep-alive connection, the server's idle close crossing the request, so a client
    /// may send an idempotent request again on a new connection.
    public var isClosedBeforeResponse: Bool { self == .closedBeforeResponse }
}
