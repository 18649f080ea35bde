/// One HTTP response as every test reads it, whatever carried it (a blocking socket in the
/// integration tests, the in-process loop's peer in LoopTests): the head as text (status line and
/// fields, without the blank line) and the body as bytes.
public struct HTTPResponse: Sendable {
    public let head: String
    public let body: [UInt8]

    public init(head: String, body: [UInt8]) {
        self.head = head
        self.body = body
    }

    /// The status code of the status line, 0 when it has none.
    public var status: Int { Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0 }
    /// The body as text (UTF-8).
    public var text: String { String(decoding: body, as: UTF8.self) }
    /// `Connection: close` was sent: the server closes after this response.
    public var closes: Bool { header("Connection")?.lowercased() == "close" }

    /// The value of the first field called `name` (any case), or nil.
    public func header(_ name: String) -> String? { Self.header(name, in: head) }

    public static func header(_ name: String, in head: String) -> String? {
        head.split(separator: "\r\n").dropFirst().first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
            .map { String($0.dropFirst(name.count + 1).drop { $0 == " " }) }
    }

    /// Where the head that starts at `start` ends (the index of its blank line's CR), if it is all there.
    public static func headEnd(in bytes: [UInt8], from start: Int = 0) -> Int? {
        guard bytes.count - start >= 4 else { return nil }
        return (start...(bytes.count - 4)).first { bytes[$0] == 13 && bytes[$0 + 1] == 10 && bytes[$0 + 2] == 13 && bytes[$0 + 3] == 10 }
    }

    /// The response framed by its `Content-Length` at `start` of `bytes`, and where the next one
    /// starts; nil until it has arrived whole. `bodyless`: the answer to a HEAD (a length, no body).
    /// 1xx, 204 and 304 have no body either.
    public static func framed(in bytes: [UInt8], from start: Int = 0, bodyless: Bool = false) -> (response: HTTPResponse, next: Int)? {
        guard let end = headEnd(in: bytes, from: start) else { return nil }
        let head = String(decoding: bytes[start..<end], as: UTF8.self)
        let status = HTTPResponse(head: head, body: []).status
        guard status > 0 else { return nil }
        var length = 0
        if !bodyless && status >= 200 && status != 204 && status != 304 {
            length = header("Content-Length", in: head).flatMap { Int($0) } ?? 0
        }
        let bodyStart = end + 4
        guard bytes.count - bodyStart >= length else { return nil }
        return (HTTPResponse(head: head, body: Array(bytes[bodyStart..<bodyStart + length])), bodyStart + length)
    }

    /// A whole close-delimited exchange: the head, and everything after it as the body.
    public init(parsing raw: [UInt8]) throws(NotAResponse) {
        guard let end = Self.headEnd(in: raw) else { throw NotAResponse(raw: raw) }
        head = String(decoding: raw[..<end], as: UTF8.self)
        body = Array(raw[(end + 4)...])
    }

    public struct NotAResponse: Error, CustomStringConvertible {
        public let raw: [UInt8]
        public var description: String {
            "not an HTTP response (no complete head in \(raw.count) bytes): " + String(decoding: raw.prefix(200), as: UTF8.self)
        }
    }
}
