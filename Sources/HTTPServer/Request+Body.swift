import EventLoop
import HTTP

/// The body collected whole, up to a limit, for handlers that want it in one piece rather than
/// streamed (`RequestBody.next()`, for bodies of any size).
extension RequestBody {
    /// The body's bytes, at most `limit` of them. Past it: `HTTPError` 413, with nothing more read
    /// (the connection then closes after the answer, so the rest is never read either). A body the
    /// client breaks off, sends malformed or stalls throws `HTTPServerError` (400, 408 when thrown
    /// out of a handler).
    public func collect(upTo limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let piece = try await next() {
            guard piece.count <= limit - bytes.count else { throw HTTPError.tooLarge(limit) }
            bytes.append(contentsOf: piece)
        }
        return bytes
    }
}

extension HTTPError {
    /// 413, naming the limit.
    static func tooLarge(_ limit: Int) -> HTTPError { HTTPError(.contentTooLarge, "the request body is larger than \(limit) bytes") }
}

extension Request {
    /// The default limit of `bytes()`, `text()` and `decode(_:)`: 1 MiB.
    public static let defaultBodyLimit = 1 << 20

    /// The whole body as bytes, at most `limit`. A declared `Content-Length` over the limit is
    /// refused before a byte is read (and before `100 Continue`): 413.
    public func bytes(upTo limit: Int = Request.defaultBodyLimit) async throws -> [UInt8] {
        if case let .contentLength(length) = head.framing, length > limit { throw HTTPError.tooLarge(limit) }
        return try await body.collect(upTo: limit)
    }

    /// The whole body as text, at most `limit` bytes of it; a body that is not UTF-8 is refused
    /// with 400 rather than repaired.
    public func text(upTo limit: Int = Request.defaultBodyLimit) async throws -> String {
        let bytes = try await bytes(upTo: limit)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw HTTPError(.badRequest, "the request body is not UTF-8 text") }
        return text
    }
}
