import CLinux
import Glibc
import Posix

@testable import EventLoop

/// The test's end of a connection (the client, for a server under test).
///
/// It lives on the loop like a connection does, as a level-triggered source: while `isReading`,
/// what arrives is read as soon as the loop turns, so bytes for the test wake the loop the way
/// they would wake a worker, and `TestLoop.run(until:)` sees them; while not reading, bytes pile
/// up in the kernel and the server feels it (a full socket buffer). What it sends goes out as the
/// loop turns too: `send` never blocks the thread the server needs.
final class Peer {
    let fd: FileDescriptor
    let testLoop: TestLoop
    private(set) var received: [UInt8] = []
    /// The other side closed (read returned 0).
    private(set) var sawEndOfStream = false
    /// A read failed (`ECONNRESET` after a reset).
    private(set) var readError: Errno?
    /// A send failed (`EPIPE`, `ECONNRESET`); what was left unsent is dropped.
    private(set) var sendError: Errno?
    private(set) var isReading = false
    private(set) var isClosed = false
    /// Bytes handed to `send` that the kernel has not taken yet.
    private var unsent: [UInt8] = []
    private var isRegistered = false

    init(fd: FileDescriptor, testLoop: TestLoop) {
        self.fd = fd
        self.testLoop = testLoop
    }

    deinit { close() }

    var text: String { String(decoding: received, as: UTF8.self) }

    /// The read side is done: end of stream or an error.
    var isFinished: Bool { sawEndOfStream || readError != nil }

    /// Everything handed to `send` is in the kernel (or failed).
    var isFlushed: Bool { unsent.isEmpty }

    func startReading() throws {
        guard !isReading, !isFinished, !isClosed else { return }
        isReading = true
        try updateInterest()
    }

    func stopReading() {
        guard isReading else { return }
        isReading = false
        try? updateInterest()
    }

    /// Queues `bytes` and sends what the kernel takes now; the rest goes as the server reads.
    func send(_ bytes: [UInt8]) throws {
        unsent.append(contentsOf: bytes)
        flush()
        try updateInterest()
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Sends FIN: the server reads end of stream, and may still answer.
    func shutdownWrite() { _ = shutdown(fd.rawValue, CInt(SHUT_WR)) }

    func close() {
        guard !isClosed else { return }
        isReading = false
        unsent = []
        try? updateInterest()
        isClosed = true
        fd.close()
    }

    /// Closes with `SO_LINGER` 0: a TCP peer then gets RST instead of FIN.
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd.rawValue, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close()
    }

    /// Bytes waiting in this end's receive queue, unread (`FIONREAD`).
    var unreadBytes: Int {
        var count: CInt = 0
        return ioctl(fd.rawValue, UInt(FIONREAD), &count) == 0 ? Int(count) : -1
    }

    // MARK: On the loop

    /// Registered (level-triggered) for what is wanted now: input while reading, room while there
    /// is something to send; out of the loop when neither (a closed socket would stay readable,
    /// and hung up, for ever).
    private func updateInterest() throws {
        var mask: UInt32 = 0
        if isReading { mask |= EPOLLIN.rawValue }
        if !unsent.isEmpty { mask |= EPOLLOUT.rawValue }
        let loop = testLoop.loop
        guard mask != 0 else {
            if isRegistered { loop.removeSource(fd) }
            isRegistered = false
            return
        }
        if !isRegistered {
            try loop.addSource(fd, exclusive: false) { [unowned self] in self.ready() }
            isRegistered = true
        }
        var event = epoll_event()
        event.events = mask
        event.data.u64 = UInt64(UInt32(bitPattern: fd.rawValue))  // a source's key, as `addSource` sets it
        _ = try syscall("epoll_ctl") { epoll_ctl(loop.epoll.fd.rawValue, EPOLL_CTL_MOD, fd.rawValue, &event) }
    }

    private func ready() {
        if isReading { readAvailable() }
        flush()
        try? updateInterest()
    }

    /// Reads until `EAGAIN`; stops reading at end of stream or error.
    private func readAvailable() {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd.rawValue, $0.baseAddress, $0.count, CInt(MSG_DONTWAIT)) }
            if count > 0 {
                received.append(contentsOf: chunk[..<count])
                continue
            }
            let error = Errno.current
            if count < 0 && error == .interrupted { continue }
            if count < 0 && error == .wouldBlock { return }
            if count == 0 { sawEndOfStream = true } else { readError = error }
            isReading = false
            return
        }
    }

    private func flush() {
        while !unsent.isEmpty {
            let sent = unsent.withUnsafeBytes { Glibc.send(fd.rawValue, $0.baseAddress, $0.count, CInt(MSG_NOSIGNAL) | CInt(MSG_DONTWAIT)) }
            if sent >= 0 {
                unsent.removeFirst(sent)
                continue
            }
            let error = Errno.current
            if error == .interrupted { continue }
            if error == .wouldBlock { return }
            sendError = error
            unsent = []
        }
    }
}

/// Connected pairs of non-blocking sockets: the server's end (for a `Connection`) and the peer.
enum SocketPair {
    /// `socketpair(AF_UNIX, SOCK_STREAM)`: enough wherever TCP's own behaviour does not matter.
    static func unix(_ testLoop: TestLoop) throws -> (server: FileDescriptor, peer: Peer) {
        let (server, peer) = try Socket.nonBlockingStreamPair()
        return (server, Peer(fd: peer, testLoop: testLoop))
    }

    /// A loopback TCP connection, for what only TCP does: a reset (RST), FIN while the peer
    /// still sends, the server's unread input turning a close into a reset.
    static func tcp(_ testLoop: TestLoop) throws -> (server: FileDescriptor, peer: Peer) {
        let listener = try Socket.listen(on: .ipv4(host: "127.0.0.1", port: 0), backlog: 4)
        defer { listener.close() }
        let client = try Socket.connect(to: try Socket.localAddress(of: listener))
        do {
            try client.setNonBlocking()
            // The handshake is complete once a loopback connect returns; allow for a slow accept queue anyway.
            var ready = pollfd(fd: listener.rawValue, events: Int16(POLLIN), revents: 0)
            _ = poll(&ready, 1, 10_000)
            guard let server = try Socket.accept(listener) else { throw SystemError("accept4", errno: .wouldBlock, object: "loopback listener") }
            try? Socket.setOption(server, CInt(IPPROTO_TCP), TCP_NODELAY, 1)
            return (server, Peer(fd: client, testLoop: testLoop))
        } catch {
            client.close()
            throw error
        }
    }
}
