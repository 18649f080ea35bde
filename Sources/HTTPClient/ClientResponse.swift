import EventLoop
import HTTP

extension HTTPClient {
    /// A response whose head has arrived and whose body is read as the caller asks: piece by piece
    /// (`forEachChunk`, nothing accumulated), or collected up to a limit (`collect(upTo:)`). Only
    /// valid inside the `execute` closure it was given to.
    @LoopActor
    public final class Response {
        public let head: ResponseHead
        public var status: Int { head.status }
        public var headers: HTTPHeaders { head.headers }
        /// Whether the whole body has been read (the connection can then be reused).
        public private(set) var isComplete: Bool
        /// Body bytes read so far.
        public private(set) var bodyBytesRead = 0
        private let connection: ClientConnection
        private let timer: ExchangeTimer

        init(head: ResponseHead, connection: ClientConnection, timer: ExchangeTimer) {
            self.head = head
            self.connection = connection
            self.timer = timer
            isComplete = false
        }

        /// Calls `body` with each piece of the body as it arrives (a view into the connection's
        /// read buffer, valid only during the call), until the end. A close before the end, a
        /// reset or a timeout is thrown: a body that ends early never looks complete.
        public func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) async throws {
            while !isComplete {
                switch try await connection.next(timer: timer, bodyBytes: bodyBytesRead) {
                case .body(let bytes):
                    bodyBytesRead += bytes.count
                    try body(bytes)
                case .end:
                    isComplete = true
                case .head, .needMore, .error:
                    preconditionFailure("the connection reports heads and errors itself")
                }
            }
        }

        /// The whole body, if it is at most `limit` bytes; a longer one is an error
        /// (`responseTooLarge`), found before more than `limit` bytes are kept, so a huge or
        /// endless body costs no more memory than the limit.
        public func collect(upTo limit: Int) async throws -> [UInt8] {
            if case .contentLength(let length) = head.framing, length > limit { throw tooLarge(limit, declared: length) }
            var collected: [UInt8] = []
            try await forEachChunk { bytes in
                guard collected.count + bytes.count <= limit else { throw tooLarge(limit, declared: nil) }
                collected.append(contentsOf: bytes)
            }
            return collected
        }

        /// The body as UTF-8 text (invalid bytes become U+FFFD), at most `limit` bytes.
        public func text(upTo limit: Int) async throws -> String {
            String(decoding: try await collect(upTo: limit), as: UTF8.self)
        }

        private func tooLarge(_ limit: Int, declared: Int?) -> HTTPClientError {
            let size = declared.map { "\($0) bytes declared" } ?? "more than that arrived"
            return HTTPClientError(.responseTooLarge, "\(timer.description): the body is over the limit of \(limit) bytes (\(size))")
        }
    }

    /// A response read to its end: status, fields and the body bytes.
    public struct CollectedResponse: Sendable {
        public let head: ResponseHead
        public let body: [UInt8]
        public var status: Int { head.status }
        public var headers: HTTPHeaders { head.headers }
        public var text: String { String(decoding: body, as: UTF8.self) }
    }
}
