import HTTP

extension HTTPClient {
    /// What to send: a method, a URL, header fields and a body.
    public struct Request: Sendable {
        public var method: HTTPMethod
        public var url: String
        /// Sent as given, after the client's own `Host` (unless given here) and framing fields.
        /// `Content-Length`, `Transfer-Encoding` and `Connection` are the client's: setting them
        /// is refused, since a wrong one would desynchronize the connection.
        public var headers: [(name: String, value: String)]
        public var body: Body
        /// Connect to this unix socket instead of the URL's host (which then only names the `Host`).
        public var unixSocket: String?

        public init(_ method: HTTPMethod = .get, _ url: String, headers: [(name: String, value: String)] = [],
                    body: Body = .none, unixSocket: String? = nil) {
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
            self.unixSocket = unixSocket
        }
    }

    /// A request body: bytes in hand, or a stream of pieces sent as they come. A stream of unknown
    /// length goes out chunked; one of known length with `Content-Length`, and must give exactly
    /// that many bytes.
    public enum Body: Sendable {
        case none
        case bytes([UInt8])
        case stream(length: Int?, AsyncThrowingStream<[UInt8], any Error>)

        /// Whether the body can be sent again on a new connection (a stream is consumed once).
        var isReplayable: Bool {
            if case .stream = self { return false }
            return true
        }
    }
}

extension HTTPClient.Request {
    /// The request head, or why the request cannot be sent as given.
    func encodedHead(for url: ClientURL) throws(HTTPClientError) -> [UInt8] {
        var head = "\(method.rawValue) \(url.target) HTTP/1.1\r\n"
        var hasHost = false
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte),
                  value.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) })
            else { throw HTTPClientError(.invalidRequest, "\(method) \(url): invalid header field '\(name)'") }
            switch name.lowercased() {
            case "content-length", "transfer-encoding", "connection":
                throw HTTPClientError(.invalidRequest, "\(method) \(url): the client sets '\(name)' itself")
            case "host": hasHost = true
            default: break
            }
        }
        if !hasHost { head += "Host: \(url.hostField)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        switch body {
        case .none where method == .post || method == .put || method == .patch: head += "Content-Length: 0\r\n"
        case .none: break
        case .bytes(let bytes): head += "Content-Length: \(bytes.count)\r\n"
        case .stream(let length?, _): head += "Content-Length: \(length)\r\n"
        case .stream(nil, _): head += "Transfer-Encoding: chunked\r\n"
        }
        head += "\r\n"
        return Array(head.utf8)
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
