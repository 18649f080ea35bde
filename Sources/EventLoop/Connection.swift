import Posix

/// A connected stream socket with async reads and writes, served on the loop.
///
/// Reads and writes are optimistic: the syscall is tried first, and the task suspends only on
/// `EAGAIN`, until the next epoll edge. Nothing is allocated per read; a write allocates only when
/// the kernel's send buffer is full and the rest must outlive the caller's buffer.
@LoopActor
public final class Connection {
    public enum ReadResult: Equatable, Sendable {
        case bytes(Int)
        /// End of stream, or the peer reset: nothing more will come.
        case closed
        /// No byte arrived within the timeout.
        case timedOut
        /// The worker is draining and this connection was idle: close it.
        case draining
        /// The loop is shutting everything down.
        case cancelled
    }

    let handle: IOHandle
    let loop: EventLoop
    public var fd: FileDescriptor { handle.fd }
    // Unchecked exclusivity (the check cost ~14% of the instructions per request, DESIGN.md). Safe
    // because no access to these fields overlaps another: no `inout` access spans a suspension point
    // or a call that touches the same field. It is not about threads.
    @exclusivity(unchecked) public private(set) var isClosed = false
    /// The first failed read or write (call, descriptor, errno), for a handler or log that wants
    /// to say why the connection ended; nil while none failed. A peer's FIN is not a failure.
    public private(set) var failure: SystemError?
    private var cachedPeer: String?
    /// Whether what it writes counts as bytes sent to clients (`response_bytes_total`): true for
    /// accepted connections, false for the HTTP client's own (`connect`).
    @exclusivity(unchecked) var countsResponseBytes = true

    /// The peer's address (`203.0.113.7`, `::1`, `unix`), looked up on first use only.
    public var peerHost: String {
        if let cachedPeer { return cachedPeer }
        let host = (try? Socket.peerAddress(of: handle.fd))?.host ?? "-"
        cachedPeer = host
        return host
    }

    /// Takes ownership of an accepted, non-blocking descriptor.
    public init(adopting fd: FileDescriptor) throws(SystemError) {
        loop = EventLoop.current
        handle = try loop.register(fd)
    }

    /// Reads what is available into `buffer`, waiting up to `timeout` for something to arrive.
    /// `idle` marks a read for the next request on a connection with nothing in progress: a drain
    /// may end it (after one last look at the socket, so a request already sent is still served).
    public func read(into buffer: UnsafeMutableRawBufferPointer, timeout: Duration?, idle: Bool = false) async -> ReadResult {
        while true {
            if let result = readIfAvailable(into: buffer) { return result }
            if idle && loop.isDraining { return .draining }
            switch await waitReadable(timeout: timeout, idle: idle) {
            case .ready, .draining: continue
            case .timedOut: return .timedOut
            case .cancelled: return .cancelled
            }
        }
    }

    /// Waits for the socket to have something to read without a task: tells `listener` once it
    /// has (or the peer closed), `timeout` passes, or the connection is closed. Returns the wakeup
    /// at once instead, without telling, when there is no need to wait (the last read did not
    /// find the socket drained, or it is closed); nil when the listener will be told. A connection
    /// idle between requests waits so, holding neither a task nor a buffer. The listener is not
    /// retained: it must live until it is told.
    public func whenReadable(timeout: Duration?, tell listener: any ReadinessListener) -> IOWakeup? {
        if handle.isClosed { return .cancelled }
        if handle.readReady { return .ready }
        handle.arm(timeout: timeout)
        return listen(listener)
    }

    /// `whenReadable(timeout:tell:)` with the timeout in nanoseconds, for a caller that converted
    /// a fixed setting once (the conversion from `Duration` costs 128-bit arithmetic).
    public func whenReadable(timeoutNanoseconds: Int64, tell listener: any ReadinessListener) -> IOWakeup? {
        if handle.isClosed { return .cancelled }
        if handle.readReady { return .ready }
        handle.arm(nanoseconds: timeoutNanoseconds)
        return listen(listener)
    }

    private func listen(_ listener: any ReadinessListener) -> IOWakeup? {
        handle.readIsIdle = false
        handle.readListener = listener
        return nil
    }

    /// Whether a read may find bytes (or the end of the stream): false once a read found the socket
    /// drained, until the next input event.
    public var mayHaveInput: Bool { handle.readReady }

    /// Reads what is there now, without waiting: nil when nothing is (then `whenReadable`).
    public func readIfAvailable(into buffer: UnsafeMutableRawBufferPointer) -> ReadResult? {
        guard handle.readReady else { return nil }
        switch handle.fd.receiveSome(into: buffer) {
        case let .processed(count):
            if count < buffer.count && !handle.peerClosed { handle.readReady = false }
            return .bytes(count)
        case .endOfStream:
            return .closed
        case .wouldBlock:
            handle.readReady = false
            return nil
        case let .failed(error):
            record("recv", error)
            return .closed
        }
    }

    /// Writes all of `first` then `second`, waiting for the peer to read when its buffer is full.
    /// Returns false when the connection failed, stalled past `timeout`, or was cancelled.
    public func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0),
                      timeout: Duration?) async -> Bool {
        let total = first.count + second.count
        guard let written = writeNow(first, second) else { return false }
        if written == total { return true }
        // The kernel took part of it: keep the rest in memory we own, because the caller's buffer
        // (often the loop's shared read buffer) is reused as soon as this task suspends.
        var pending = [UInt8]()
        pending.reserveCapacity(total - written)
        if written < first.count {
            pending.append(contentsOf: first[written...])
            pending.append(contentsOf: second)
        } else {
            pending.append(contentsOf: second[(written - first.count)...])
        }
        return await writePending(pending, timeout: timeout)
    }

    /// One `send` (or, with a non-empty `second`, one `sendmsg`) of `first` then `second`, now,
    /// without waiting: how many bytes the kernel took (0 when its buffer is full), or nil when the
    /// connection failed. Lets a caller write from memory it can only lend synchronously
    /// (`Array.withUnsafeBytes`), then hand the rest to `write`, which copies it.
    @inline(__always)
    public func writeNow(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) -> Int? {
        if second.isEmpty { return taken(handle.fd.sendSome(first), by: "send") }
        return taken(handle.fd.sendSome(first, second), by: "sendmsg")
    }

    /// `writeNow` of `first` then an array's bytes. The array is lent by a nonisolated helper: an
    /// isolated closure handed to `withUnsafeBytes` costs a dynamic executor check on every call
    /// (`swift_task_isCurrentExecutor`, ~90 instructions a response).
    public func writeNow(_ first: UnsafeRawBufferPointer, _ second: [UInt8]) -> Int? {
        taken(Self.sendSome(handle.fd, first, second), by: "sendmsg")
    }

    private nonisolated static func sendSome(_ fd: FileDescriptor, _ first: UnsafeRawBufferPointer, _ second: [UInt8]) -> IOResult {
        second.withUnsafeBytes { fd.sendSome(first, $0) }
    }

    /// The bytes a write took (0 when the socket is full), nil after recording its failure.
    @inline(__always)
    private func taken(_ result: IOResult, by call: String) -> Int? {
        switch result {
        case let .processed(count):
            if countsResponseBytes { ServiceStats.shared.traffic.wrote(count) }
            return count
        case .wouldBlock, .endOfStream: return 0
        case let .failed(error):
            record(call, error)
            return nil
        }
    }

    /// Writes all of `bytes`, handed over by a caller that tried `writeNow` and keeps the rest in
    /// an array of its own (no second copy). False as for `write`.
    public func write(remaining bytes: [UInt8], timeout: Duration?) async -> Bool {
        await writePending(bytes, timeout: timeout)
    }

    private func writePending(_ pending: [UInt8], timeout: Duration?) async -> Bool {
        var offset = 0
        while offset < pending.count {
            let result = pending.withUnsafeBytes { handle.fd.sendSome(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            switch result {
            case let .processed(count) where count > 0:
                if countsResponseBytes { ServiceStats.shared.traffic.wrote(count) }
                offset += count
            case .wouldBlock:
                guard await waitWritable(timeout: timeout) == .ready else { return false }
            case let .failed(error):
                record("send", error)
                return false
            case .processed, .endOfStream:
                return false  // nothing taken of a non-empty buffer: the socket will not move
            }
        }
        return true
    }

    /// Sends `length` bytes of the open file `file` from `offset` with `sendfile(2)`: the kernel
    /// copies from the page cache to the socket, no byte passes through this process. Waits for the
    /// peer when its buffer is full; false when the connection failed, stalled past `timeout`, or
    /// the file ended early (it shrank while being sent).
    public func sendFile(_ file: FileDescriptor, offset: Int, length: Int, timeout: Duration?) async -> Bool {
        var position = offset
        var remaining = length
        while true {
            guard let sent = sendFileNow(file, offset: position, length: remaining) else { return false }
            position += sent
            remaining -= sent
            if remaining == 0 { return true }
            guard await waitWritable(timeout: timeout) == .ready else { return false }
        }
    }

    /// `sendFile` as far as the socket takes it now, without waiting: the bytes sent (`length`,
    /// or fewer when the socket is full), or nil when the connection failed or the file ended
    /// early. Lets a caller finish a response without an async call when the socket has room.
    public func sendFileNow(_ file: FileDescriptor, offset: Int, length: Int) -> Int? {
        var position = offset
        var remaining = length
        while remaining > 0 {
            switch handle.fd.sendFileSome(from: file, offset: &position, count: min(remaining, 1 << 30)) {
            case let .processed(sent):
                if countsResponseBytes { ServiceStats.shared.traffic.wrote(sent) }
                remaining -= sent
            case .endOfStream:
                return nil
            case .wouldBlock:
                return length - remaining
            case let .failed(error):
                record("sendfile", error)
                return nil
            }
        }
        return length
    }

    /// Holds partial segments back (`TCP_CORK`) while a file goes out piece by piece as the client
    /// reads, or sends what is held and stops holding (`false`). Otherwise each piece `sendfile`
    /// takes ends in a short segment of its own: on 13 MB files at c=1000 that was a fifth more
    /// segments per byte than nginx (which corks: `tcp_nopush`) and 13% more CPU per byte.
    /// Harmless on a unix socket, which has no segments (the call fails).
    public func holdPartialSegments(_ hold: Bool) {
        try? Socket.setCork(handle.fd, hold)
    }

    /// Waits for room to write without a task, after a write or `sendFileNow` found the socket
    /// full: tells `listener` once the client has read some (or the connection failed), `timeout`
    /// passes, or the connection is closed. Returns `.cancelled` at once instead, without telling,
    /// when it is closed already; nil when the listener will be told. The listener is not
    /// retained: it must live until it is told.
    public func whenWritable(timeout: Duration?, tell listener: any WritabilityListener) -> IOWakeup? {
        if handle.isClosed { return .cancelled }
        handle.arm(timeout: timeout)
        handle.writeListener = listener
        return nil
    }

    /// Closes after an error reply without destroying it: sends FIN, then reads and discards what
    /// the client still sends (up to `timeout`) before closing. Closing with unread input makes the
    /// kernel send RST, and a client that gets RST may lose the reply it has not read yet.
    /// Does nothing on a connection already closed (its descriptor may be another's by now).
    public func lingeringClose(timeout: Duration = .seconds(2)) async {
        guard !isClosed else { return }
        // A peer that reset already makes this fail (ENOTCONN); the reads below then end at once.
        _ = try? Socket.shutdownWrite(handle.fd)
        let end = loop.now &+ UInt64(max(0, timeout.nanoseconds))
        while loop.now < end {
            let left = Duration.nanoseconds(Int64(end - loop.now))
            guard case .bytes = await read(into: loop.sharedBuffer, timeout: left) else { break }
        }
        close()
    }

    /// Keeps the first failure of the socket, named: the call, the descriptor and the errno.
    private func record(_ call: String, _ error: Errno) {
        if failure == nil { failure = SystemError(call, errno: error, object: handle.fd.description) }
    }

    /// Closes the socket. Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        loop.close(handle)
    }

    private func waitReadable(timeout: Duration?, idle: Bool) async -> IOWakeup {
        if handle.isClosed { return .cancelled }
        if handle.readReady { return .ready }
        handle.arm(timeout: timeout)
        handle.readIsIdle = idle
        return await withUnsafeContinuation { handle.readWaiter = $0 }
    }

    func waitWritable(timeout: Duration?) async -> IOWakeup {
        if handle.isClosed { return .cancelled }
        handle.arm(timeout: timeout)
        return await withUnsafeContinuation { handle.writeWaiter = $0 }
    }
}
