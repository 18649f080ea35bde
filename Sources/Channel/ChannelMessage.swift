import Posix

/// One message on a master↔worker channel (a `SOCK_SEQPACKET` socketpair, so one message is one
/// packet and never arrives torn).
///
/// Wire form: a tag byte, seven zero bytes, then little-endian `UInt64` fields. Fixed-size and
/// versionless on purpose: both ends are always the same binary, because a worker is a fork of its
/// master.
public enum ChannelMessage: Equatable, Sendable {
    /// Worker → master: booted, listeners registered, serving.
    case ready
    /// Worker → master: alive, with its figures.
    case heartbeat(WorkerStats)
    /// Master → worker: take what is queued, stop accepting, finish in-flight work, exit by
    /// `deadline` (a `CLOCK_MONOTONIC` instant, the same clock in both processes). A deadline already
    /// passed means: close everything now.
    case quit(deadline: Instant)
    /// Master → worker: reopen log files (logrotate).
    case reopenLogs
    /// Worker → master: served its `--max-requests`; replace me (I keep serving until asked to quit).
    case recycle
    /// Master → worker: the server leaves (false) or rejoins (true) its load balancer's rotation:
    /// health checks answer 503 while out, every other request is still served
    /// (`--shutdown-delay`, `supervisor drain|undrain`).
    case rotation(inRotation: Bool)
    /// Worker → master: the return addresses of the worker's stack where `Signal.stackReport`
    /// interrupted it, innermost first. Encoded in C, by the signal handler (`StackReporter`): a
    /// count, then the frames.
    case stackReport(frames: [UInt64])

    /// The largest message: a heartbeat (8 + 8 × `WorkerStats.fieldCount` = 456 bytes) or a stack
    /// report (a count and `StackReporter.maximumFrames` frames).
    public static let maximumSize = max(512, 16 + 8 * StackReporter.maximumFrames)

    private enum Tag: UInt8 {
        case ready = 1, heartbeat = 2, quit = 3, reopenLogs = 4, recycle = 5, rotation = 6
        /// `StackReporter.channelTag`, which the C handler writes.
        case stackReport = 7
    }

    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.maximumSize)
        func header(_ tag: Tag) { bytes.append(tag.rawValue); bytes.append(contentsOf: repeatElement(0, count: 7)) }
        func field(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        switch self {
        case .ready:
            header(.ready)
        case let .heartbeat(stats):
            header(.heartbeat)
            for value in stats.fields { field(value) }
        case let .quit(deadline):
            header(.quit)
            field(deadline.nanoseconds)
        case .reopenLogs:
            header(.reopenLogs)
        case .recycle:
            header(.recycle)
        case let .rotation(inRotation):
            header(.rotation)
            field(inRotation ? 1 : 0)
        case let .stackReport(frames):
            header(.stackReport)
            field(UInt64(frames.count))
            frames.forEach(field)
        }
        return bytes
    }

    /// Decodes one packet; `nil` for anything malformed (wrong tag, wrong length, non-zero padding).
    public init?(decoding bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        guard bytes.count >= 8, bytes[1..<8].allSatisfy({ $0 == 0 }), let tag = Tag(rawValue: bytes[0]) else { return nil }
        func fields(_ count: Int) -> [UInt64]? {
            guard bytes.count == 8 + 8 * count else { return nil }
            return (0..<count).map { index in
                var value: UInt64 = 0
                for byte in bytes[(8 + 8 * index)..<(16 + 8 * index)].reversed() { value = value << 8 | UInt64(byte) }
                return value
            }
        }
        switch tag {
        case .ready:
            guard fields(0) != nil else { return nil }
            self = .ready
        case .heartbeat:
            guard let values = fields(WorkerStats.fieldCount), let stats = WorkerStats(fields: values) else { return nil }
            self = .heartbeat(stats)
        case .quit:
            guard let values = fields(1) else { return nil }
            self = .quit(deadline: Instant(nanoseconds: values[0]))
        case .reopenLogs:
            guard fields(0) != nil else { return nil }
            self = .reopenLogs
        case .recycle:
            guard fields(0) != nil else { return nil }
            self = .recycle
        case .rotation:
            guard let values = fields(1), values[0] <= 1 else { return nil }
            self = .rotation(inRotation: values[0] == 1)
        case .stackReport:
            guard bytes.count >= 16, bytes.count % 8 == 0 else { return nil }
            let count = (bytes.count - 16) / 8
            guard count <= StackReporter.maximumFrames, let values = fields(count + 1), values[0] == UInt64(count) else { return nil }
            self = .stackReport(frames: Array(values.dropFirst()))
        }
    }
}

/// Sending and receiving `ChannelMessage`s on a non-blocking seqpacket descriptor.
public enum ChannelIO {
    public enum ReceiveResult: Equatable {
        case message(ChannelMessage)
        /// A packet that did not decode: logged by the caller, never fatal.
        case malformed
        /// Nothing more to read now.
        case empty
        /// The other end closed: for a worker, its master is gone.
        case closed
    }

    /// Sends one message without blocking. Returns false when the channel is full (the receiver is
    /// stuck; the caller falls back to a signal) and throws when the peer is gone.
    @discardableResult
    public static func send(_ message: ChannelMessage, on fd: FileDescriptor) throws(SystemError) -> Bool {
        let bytes = message.encoded()
        let sent = bytes.withUnsafeBytes { raw in Result { () throws(SystemError) in try Socket.send(fd, raw) } }
        return try sent.get() != nil
    }

    public static func receive(on fd: FileDescriptor) throws(SystemError) -> ReceiveResult {
        var buffer = [UInt8](repeating: 0, count: ChannelMessage.maximumSize)
        let received = buffer.withUnsafeMutableBytes { raw in Result { () throws(SystemError) in try Socket.receive(fd, into: raw) } }
        guard let count = try received.get() else { return .empty }
        if count == 0 { return .closed }
        guard let message = ChannelMessage(decoding: buffer[..<count]) else { return .malformed }
        return .message(message)
    }
}
