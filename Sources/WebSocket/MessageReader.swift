/// Reads a client's frames into messages, incrementally: bytes in, at most one event out per call,
/// whatever way the bytes were cut. Every rule of RFC 6455 §5 that a server must enforce is here,
/// so the session only carries the events out:
///
/// - 1002: an unmasked frame, a reserved bit or opcode, a control frame over 125 bytes or
///   fragmented, a continuation with no message begun, a new message before the last one ended, a
///   64-bit length with its top bit set, a close payload of one byte or with a code never sent.
/// - 1007: text (or a close reason) that is not UTF-8, checked as each fragment arrives.
/// - 1009: a message over `maxMessageSize`, refused from the declared length, before a byte of it
///   is stored: a frame bomb (a huge declared length) allocates nothing.
///
/// A failure is final: every later call reports it again.
public struct MessageReader: Sendable {
    public enum Event: Sendable, Equatable {
        /// Everything given was consumed; more bytes are needed.
        case needMore
        case message(WebSocketMessage)
        case ping([UInt8])
        case pong([UInt8])
        /// The peer's close frame: its code (nil when it sent none) and reason.
        case close(CloseCode?, reason: String)
        /// The peer broke the protocol: close with `code`.
        case failure(CloseCode, reason: String)
    }

    private enum Phase: Sendable {
        case header
        case payload(FrameInfo)
        case failed(CloseCode, String)
    }

    private struct FrameInfo: Sendable {
        var opcode: Opcode
        var fin: Bool
        var mask: (UInt8, UInt8, UInt8, UInt8)
        var remaining: UInt64
        /// Bytes of the payload unmasked so far: where the mask's cycle stands.
        var offset = 0
    }

    public let maxMessageSize: Int
    /// A server must refuse unmasked frames; a client (tests) reads a server's, which are not.
    public let requireMask: Bool
    private var phase = Phase.header
    private var header: [UInt8] = []
    /// The data message being assembled (text or binary), nil between messages.
    private var messageKind: Opcode?
    private var message: [UInt8] = []
    private var utf8 = UTF8Validator()
    private var control: [UInt8] = []

    public init(maxMessageSize: Int, requireMask: Bool = true) {
        self.maxMessageSize = maxMessageSize
        self.requireMask = requireMask
        header.reserveCapacity(14)
    }

    /// Consumes a prefix of `bytes` and reports what it completed.
    public mutating func read(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, event: Event) {
        var index = 0
        while true {
            switch phase {
            case let .failed(code, reason):
                return (index, .failure(code, reason: reason))
            case .header:
                while header.count < headerLength && index < bytes.count {
                    header.append(bytes[index])
                    index += 1
                    if header.count == 2, let failure = checkFirstBytes() { return (index, fail(failure)) }
                }
                guard header.count == headerLength else { return (index, .needMore) }
                switch startFrame() {
                case let .failure(code, reason): return (index, fail((code, reason)))
                case nil: break
                case let event?: return (index, event)
                }
            case var .payload(frame):
                let take = Int(min(frame.remaining, UInt64(bytes.count - index)))
                if take > 0 {
                    let chunk = UnsafeRawBufferPointer(rebasing: bytes[index..<index + take])
                    index += take
                    frame.remaining -= UInt64(take)
                    if frame.opcode.isControl {
                        append(chunk, to: &control, frame: &frame)
                    } else {
                        let before = message.count
                        append(chunk, to: &message, frame: &frame)
                        if messageKind == .text {
                            var validator = utf8
                            let valid = message.withUnsafeBytes { validator.feed(UnsafeRawBufferPointer(rebasing: $0[before...])) }
                            utf8 = validator
                            if !valid { return (index, fail((.invalidPayload, "text is not valid UTF-8"))) }
                        }
                    }
                }
                phase = .payload(frame)
                guard frame.remaining == 0 else { return (index, .needMore) }
                phase = .header
                if let event = finish(frame) { return (index, event) }
            }
        }
    }

    /// How many header bytes the frame has: 2, plus the extended length, plus the mask.
    private var headerLength: Int {
        guard header.count >= 2 else { return 2 }
        let extended = switch header[1] & 0x7F { case 126: 2; case 127: 8; default: 0 }
        return 2 + extended + (header[1] & 0x80 != 0 ? 4 : 0)
    }

    /// The rules that the first two bytes decide, before the rest of the header is waited for.
    private func checkFirstBytes() -> (CloseCode, String)? {
        let first = header[0]
        let second = header[1]
        if first & 0x70 != 0 { return (.protocolError, "reserved bits set, no extension negotiated") }
        guard let opcode = Opcode(rawValue: first & 0x0F) else { return (.protocolError, "reserved opcode \(first & 0x0F)") }
        if requireMask && second & 0x80 == 0 { return (.protocolError, "client frame not masked") }
        if opcode.isControl {
            if first & 0x80 == 0 { return (.protocolError, "fragmented control frame") }
            if second & 0x7F > 125 { return (.protocolError, "control frame over 125 bytes") }
        } else if opcode == .continuation {
            if messageKind == nil { return (.protocolError, "continuation with no message begun") }
        } else if messageKind != nil {
            return (.protocolError, "new message before the last one ended")
        }
        return nil
    }

    /// The header is complete: checks the length against the limit and starts the payload. An
    /// event when the frame is empty and completes something, else nil.
    private mutating func startFrame() -> Event? {
        let fin = header[0] & 0x80 != 0
        let opcode = Opcode(rawValue: header[0] & 0x0F) ?? .continuation  // checked in checkFirstBytes
        var length = UInt64(header[1] & 0x7F)
        var cursor = 2
        if length >= 126 {
            let count = length == 126 ? 2 : 8
            length = 0
            for _ in 0..<count {
                length = length << 8 | UInt64(header[cursor])
                cursor += 1
            }
            if length >> 63 != 0 { return .failure(.protocolError, reason: "frame length has its top bit set") }
        }
        var mask: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        if header[1] & 0x80 != 0 { mask = (header[cursor], header[cursor + 1], header[cursor + 2], header[cursor + 3]) }
        header.removeAll(keepingCapacity: true)
        if !opcode.isControl {
            // The limit, from the declared length: nothing of an oversized message is stored.
            let held = opcode == .continuation ? UInt64(message.count) : 0
            if length > UInt64(maxMessageSize) || held + length > UInt64(maxMessageSize) {
                return .failure(.messageTooBig, reason: "message over \(maxMessageSize) bytes")
            }
            if opcode != .continuation {
                messageKind = opcode
                utf8 = UTF8Validator()
            }
        }
        let frame = FrameInfo(opcode: opcode, fin: fin, mask: mask, remaining: length)
        if length > 0 {
            phase = .payload(frame)
            return nil
        }
        return finish(frame)
    }

    /// Unmasks `chunk` onto the end of `target`.
    private func append(_ chunk: UnsafeRawBufferPointer, to target: inout [UInt8], frame: inout FrameInfo) {
        let key = [frame.mask.0, frame.mask.1, frame.mask.2, frame.mask.3]
        let start = frame.offset
        let before = target.count
        target.append(contentsOf: chunk)
        target.withUnsafeMutableBytes { all in
            for index in 0..<chunk.count { all[before + index] ^= key[(start + index) & 3] }
        }
        frame.offset += chunk.count
    }

    /// A frame's last byte arrived: the event it completes, if any.
    private mutating func finish(_ frame: FrameInfo) -> Event? {
        switch frame.opcode {
        case .ping: return .ping(takeControl())
        case .pong: return .pong(takeControl())
        case .close: return closeEvent(takeControl())
        case .text, .binary, .continuation:
            guard frame.fin, let kind = messageKind else { return nil }
            messageKind = nil
            let bytes = message
            message = []
            if kind == .binary { return .message(.binary(bytes)) }
            guard utf8.isComplete else { return fail((.invalidPayload, "text ends inside a UTF-8 sequence")) }
            return .message(.text(String(decoding: bytes, as: UTF8.self)))
        }
    }

    private mutating func takeControl() -> [UInt8] {
        let bytes = control
        control.removeAll(keepingCapacity: true)
        return bytes
    }

    private mutating func closeEvent(_ payload: [UInt8]) -> Event {
        if payload.isEmpty { return .close(nil, reason: "") }
        guard payload.count >= 2 else { return fail((.protocolError, "close payload of one byte")) }
        let code = CloseCode(rawValue: UInt16(payload[0]) << 8 | UInt16(payload[1]))
        guard code.mayBeSent else { return fail((.protocolError, "close code \(code.rawValue) may not be sent")) }
        let reason = Array(payload[2...])
        guard UTF8Validator.isValid(reason) else { return fail((.invalidPayload, "close reason is not valid UTF-8")) }
        return .close(code, reason: String(decoding: reason, as: UTF8.self))
    }

    private mutating func fail(_ failure: (CloseCode, String)) -> Event {
        phase = .failed(failure.0, failure.1)
        return .failure(failure.0, reason: failure.1)
    }
}
