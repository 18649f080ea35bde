import EventLoop
import HTTP
import Posix

/// One connection to an origin, kept by the pool between requests: the socket, its read buffer
/// and the response parser. It carries one exchange at a time.
///
/// The buffer is the connection's own (64 KiB, allocated once per connection, not per request):
/// body slices handed to the caller point into it and stay valid until the next read.
@LoopActor
final class ClientConnection {
    let origin: Origin
    let connection: Connection
    private let storage = ReadBuffer()
    private var buffer: UnsafeMutableRawBufferPointer { storage.bytes }
    /// The bytes read and not parsed yet: `buffer[start..<end]`.
    private var start = 0
    private var end = 0
    private var parser = ResponseParser()
    /// When it was put back in the pool (the loop's clock), for the idle timeout.
    var idleSince: UInt64 = 0
    /// Exchanges completed on it: a reused connection may have been closed by the server while idle.
    private(set) var exchanges = 0

    init(origin: Origin, connection: Connection) {
        self.origin = origin
        self.connection = connection
    }

    /// Whether it can carry the next request: the last response ended cleanly, allowed
    /// keep-alive, and nothing more arrived (a server sends nothing unasked; bytes or an end of
    /// stream now mean it closed or misbehaves while the connection was idle).
    var isReusable: Bool {
        guard !connection.isClosed, start == end, !parser.hasPartialResponse else { return false }
        guard connection.mayHaveInput else { return true }
        switch connection.readIfAvailable(into: buffer) {
        case nil: return true
        case .bytes, .closed, .timedOut, .draining, .cancelled: return false
        }
    }

    func close() { connection.close() }

    // MARK: Sending

    func send(_ head: [UInt8], _ body: HTTPClient.Body, timer: ExchangeTimer) async throws(HTTPClientError) {
        switch body {
        case .none:
            try await write(head, timer: timer)
        case .bytes(let bytes):
            try await write(head, bytes, timer: timer)
        case .stream(let length, let stream):
            try await write(head, timer: timer)
            try await send(stream, length: length, timer: timer)
        }
    }

    private func send(_ stream: AsyncThrowingStream<[UInt8], any Error>, length: Int?, timer: ExchangeTimer) async throws(HTTPClientError) {
        var sent = 0
        do {
            for try await piece in stream where !piece.isEmpty {
                sent += piece.count
                if let length, sent > length { break }
                if length == nil {
                    try await write(Array("\(String(piece.count, radix: 16))\r\n".utf8), piece + [0x0D, 0x0A], timer: timer)
                } else {
                    try await write(piece, timer: timer)
                }
            }
        } catch let error as HTTPClientError {
            throw error
        } catch {
            throw HTTPClientError(.requestBody, "\(timer.description): the request body's stream failed: \(error)")
        }
        if let length, sent != length {
            throw HTTPClientError(.requestBody, "\(timer.description): the request body's stream gave \(sent) bytes, not the \(length) it declared")
        }
        if length == nil { try await write(Array("0\r\n\r\n".utf8), timer: timer) }
    }

    private func write(_ first: [UInt8], _ second: [UInt8] = [], timer: ExchangeTimer) async throws(HTTPClientError) {
        let limit = try timer.budget(timer.readTimeout)
        let written = first.withUnsafeBytes { first in
            second.withUnsafeBytes { second in
                connection.writeNow(first, second)
            }
        }
        let total = first.count + second.count
        guard let written else { throw failed("sending the request") }
        guard written < total else { return }
        let rest = written < first.count ? Array(first[written...]) + second : Array(second[(written - first.count)...])
        let done = await connection.write(remaining: rest, timeout: limit)
        guard done else {
            if connection.failure != nil || connection.isClosed { throw failed("sending the request") }
            throw timer.timedOut(limit, "the server took no byte of the request")
        }
    }

    // MARK: Receiving

    /// Gets ready for the response to a request of `method`.
    func expectResponse(to method: HTTPMethod) {
        parser.expectResponse(to: method)
        receivedAny = false
    }

    /// Whether any byte of the current exchange's response arrived: a reused connection that
    /// failed before one did was most likely closed by the server while idle, and an idempotent
    /// request may be sent again on a new one.
    private(set) var receivedAny = false

    /// The next event of the response: its head, a body slice (valid until the next call), or its
    /// end. A close before the end, a reset, a timeout or a malformed response is thrown.
    func next(timer: ExchangeTimer, bodyBytes: Int) async throws(HTTPClientError) -> ResponseParser.Event {
        while true {
            // Parsed even when no byte is left: the end of a body whose last byte came in the
            // previous slice is reported by the next call.
            let output = parser.parse(UnsafeRawBufferPointer(rebasing: buffer[start..<end]))
            start += output.consumed
            switch output.event {
            case .needMore: break
            case .end:
                exchanges += 1
                return .end
            case .error(let error): throw malformed(error)
            case .head, .body: return output.event
            }
            if start == end { (start, end) = (0, 0) }
            if let ending = try await readMore(timer: timer, bodyBytes: bodyBytes) { return ending }
        }
    }

    /// Reads what the server sent next; `.end` when its close was the end of a close-delimited body.
    private func readMore(timer: ExchangeTimer, bodyBytes: Int) async throws(HTTPClientError) -> ResponseParser.Event? {
        if start > 0 {
            // Keep the unparsed part of a head at the front (the head is bounded well below 64 KiB).
            (buffer.baseAddress! + 0).copyMemory(from: buffer.baseAddress! + start, byteCount: end - start)
            (start, end) = (0, end - start)
        }
        let limit = try timer.budget(timer.readTimeout)
        switch await connection.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[end...]), timeout: limit) {
        case .bytes(let count):
            end += count
            receivedAny = true
            return nil
        case .closed:
            if connection.failure != nil { throw failed("receiving the response (after \(bodyBytes) body bytes)") }
            guard case .error(let error) = parser.finish() else { return .end }
            throw truncated(error, bodyBytes: bodyBytes)
        case .timedOut:
            throw timer.timedOut(limit, "no byte from the server (after \(bodyBytes) body bytes)")
        case .draining, .cancelled:
            throw HTTPClientError(.cancelled, "\(timer.description): the loop is shutting down")
        }
    }

    private func failed(_ doing: String) -> HTTPClientError {
        let why = connection.failure.map { "\($0)" } ?? "the connection closed"
        return HTTPClientError(.connectionFailed, "\(origin): \(why) while \(doing)")
    }

    private func malformed(_ error: HTTPParseError) -> HTTPClientError {
        HTTPClientError(.malformedResponse, "\(origin): malformed response: \(error.reason)")
    }

    private func truncated(_ error: HTTPParseError, bodyBytes: Int) -> HTTPClientError {
        HTTPClientError(.truncated, "\(origin): \(error.reason) (after \(bodyBytes) body bytes)")
    }
}

/// The connection's read buffer, freed with it.
private final class ReadBuffer {
    let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    deinit { bytes.deallocate() }
}
