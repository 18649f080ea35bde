import EventLoop
import Glibc
import WebSocket

/// A WebSocket session (RFC 6455) on a connection handed over after its 101: the handler reads
/// messages and sends its own, and the session does the rest, as it reads: answers pings, closes
/// with the right code on a protocol error, pings a quiet client and gives up on a silent one,
/// and closes with 1001 when the worker drains.
///
///     for try await message in session.messages { try await session.send(message) }
///
/// The client is read only while the handler waits for a message (as a request body is read only
/// while the handler pulls it): a handler that stops reading stops the client's sending, once the
/// socket's buffers are full.
@LoopActor
public final class WebSocketSession {
    /// The upgrade request: its path, route parameters, headers and context.
    public let request: Request
    public let settings: WebSocketSettings
    let connection: Connection
    private var reader: MessageReader
    /// Unread input is `input[start..<end]`.
    nonisolated(unsafe) private let input: UnsafeMutableRawBufferPointer  // freed by deinit, used on the loop only
    private var start = 0
    private var end = 0
    private var closeSent = false
    /// Nothing more will be read: the client's close came, the protocol broke or the socket ended.
    private var readDone = false
    private var pingSent = false
    /// A task is reading the client (`readMore`, or `close` waiting for the client's close): the
    /// connection has one read waiter, so a second task must not read too.
    private var reading = false
    private var writing = false
    private var writeWaiters: [UnsafeContinuation<Void, Never>] = []
    /// The code the session closed with, once it did (ours, or the client's if it closed first).
    public private(set) var closeCode: CloseCode?

    static let inputSize = 16 << 10

    init(request: Request, connection: Connection, settings: WebSocketSettings, unread: [UInt8]) {
        self.request = request
        self.connection = connection
        self.settings = settings
        reader = MessageReader(maxMessageSize: settings.maxMessageSize)
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: max(Self.inputSize, unread.count), alignment: 16)
        unread.withUnsafeBytes { input.copyMemory(from: $0) }
        end = unread.count
    }

    deinit { input.deallocate() }

    /// The client's messages until it closes (or the session ends); throws `WebSocketError` when
    /// it broke the protocol (the session has closed with the code then).
    public var messages: Messages { Messages(session: self) }

    /// The next message, or nil once the session is closed.
    public func receive() async throws(WebSocketError) -> WebSocketMessage? {
        while !readDone {
            let (consumed, event) = reader.read(UnsafeRawBufferPointer(rebasing: input[start..<end]))
            start += consumed
            switch event {
            case .needMore:
                guard await readMore() else { return nil }
            case let .message(message):
                return message
            case let .ping(payload):
                _ = await sendFrame(.pong, payload)
            case .pong:
                pingSent = false
            case let .close(code, _):
                readDone = true
                // Echo the client's code (1000 when it sent none), unless ours went first.
                if !closeSent { await sendClose(code ?? .normal, reason: "") }
                if closeCode == nil { closeCode = code ?? .normal }
                return nil
            case let .failure(code, reason):
                readDone = true
                await close(code, reason: reason)
                throw WebSocketError(code: code, reason: reason)
            }
        }
        return nil
    }

    /// Reads more of the client's bytes; false when the session must end (the socket closed, the
    /// client went silent past two ping intervals, or a drain closed it with 1001).
    private func readMore() async -> Bool {
        if start == end {
            start = 0
            end = 0
        } else if end == input.count {
            let count = end - start
            if let base = input.baseAddress { memmove(base, base + start, count) }
            start = 0
            end = count
        }
        // An idle read: a drain wakes it (then 1001), and a timeout means the client was quiet. Once
        // our close went out (from another task: `close`), the wait is for the client's close.
        reading = true
        let result = await connection.read(into: UnsafeMutableRawBufferPointer(rebasing: input[end...]),
                                           timeout: closeSent ? settings.closeTimeout : settings.pingInterval, idle: true)
        reading = false
        switch result {
        case let .bytes(count):
            end += count
            pingSent = false
            return true
        case .timedOut:
            if closeSent {
                readDone = true  // the client never answered our close
                return false
            }
            if pingSent {
                await close(.goingAway, reason: "no answer to ping")
                return false
            }
            pingSent = true
            return await sendFrame(.ping, [])
        case .draining:
            await close(.goingAway, reason: "server going away")
            return false
        case .closed, .cancelled:
            readDone = true
            if closeCode == nil { closeCode = CloseCode(rawValue: 1006) }  // abnormal: no close frame
            return false
        }
    }

    /// Sends a message.
    public func send(_ message: WebSocketMessage) async throws(WebSocketError) {
        guard !closeSent else { throw WebSocketError(code: closeCode ?? .normal, reason: "the session is closed") }
        let sent = switch message {
        case let .text(text): await sendFrame(.text, Array(text.utf8))
        case let .binary(bytes): await sendFrame(.binary, bytes)
        }
        guard sent else { throw WebSocketError(code: CloseCode(rawValue: 1006), reason: "the connection failed") }
    }

    /// Starts the close handshake with `code` and waits (up to `closeTimeout`) for the client's
    /// close frame; what else it sends meanwhile is dropped. Idempotent. Called while another task
    /// reads the session (the handler in `for try await … in messages`, closed from a background
    /// task), it sends the close frame and returns: that task reads on to the client's close, and
    /// its loop then ends.
    public func close(_ code: CloseCode = .normal, reason: String = "") async {
        if !closeSent { await sendClose(code, reason: reason) }
        guard !reading else { return }
        let loop = EventLoop.current
        let deadline = loop.now &+ UInt64(max(0, settings.closeTimeout.nanoseconds))
        while !readDone {
            let (consumed, event) = reader.read(UnsafeRawBufferPointer(rebasing: input[start..<end]))
            start += consumed
            switch event {
            case .needMore:
                if start == end { start = 0; end = 0 }
                let now = loop.now
                let left = Duration.nanoseconds(Int64(deadline > now ? deadline - now : 0))
                guard left > .zero, end < input.count, !reading else { readDone = true; break }
                reading = true
                let result = await connection.read(into: UnsafeMutableRawBufferPointer(rebasing: input[end...]), timeout: left)
                reading = false
                guard case let .bytes(count) = result else { readDone = true; break }
                end += count
            case .close, .failure:
                readDone = true
            case .message, .ping, .pong:
                continue
            }
        }
    }

    private func sendClose(_ code: CloseCode, reason: String) async {
        closeSent = true
        closeCode = code
        _ = await sendFrame(.close, FrameEncoder.closePayload(code, reason: reason))
    }

    /// Writes one frame, after any frame already being written (a pong or a close must never land
    /// inside another frame). False when the connection failed or the client stopped reading.
    private func sendFrame(_ opcode: Opcode, _ payload: [UInt8]) async -> Bool {
        while writing { await withUnsafeContinuation { writeWaiters.append($0) } }
        writing = true
        defer {
            writing = false
            if !writeWaiters.isEmpty { writeWaiters.removeFirst().resume() }
        }
        let header = FrameEncoder.header(opcode, length: payload.count)
        // Header and payload in one writev from the arrays; only what the kernel left is copied.
        switch header.withUnsafeBytes({ head in payload.withUnsafeBytes { connection.writeNowKeepingRest(head, $0) } }) {
        case .failed: return false
        case .complete: return true
        case let .partial(rest): return await connection.write(rest.bytes, timeout: settings.sendTimeout)
        }
    }

    /// Runs the route's handler, then ends the session: 1000 if it returned, 1011 if it threw
    /// anything but the protocol error the session already closed for.
    func run(_ handler: WebSocketHandler) async {
        do {
            try await handler(self)
            await close(.normal)
        } catch {
            await close(.internalError, reason: "handler failed")
        }
    }

    /// `for try await message in session.messages`.
    public struct Messages: AsyncSequence, AsyncIteratorProtocol {
        let session: WebSocketSession
        public func makeAsyncIterator() -> Messages { self }
        public mutating func next() async throws(WebSocketError) -> WebSocketMessage? { try await session.receive() }
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(WebSocketError) -> WebSocketMessage? {
            try await session.receive()
        }
    }
}

/// Why a session ended with an error: the close code it closed with, and why.
public struct WebSocketError: Error, Sendable, CustomStringConvertible {
    public let code: CloseCode
    public let reason: String
    public var description: String { "WebSocket closed with \(code.rawValue): \(reason)" }
}
