import Posix

/// `--metrics-bind`: the master serves `GET /metrics` from its own poll loop, like the control
/// socket, and never blocks that loop. Every socket is non-blocking; a page a scraper does not
/// read at once waits in memory and goes out as the socket takes it (the poll watches for
/// writability); a client has `clientTimeout` for its whole exchange; at most `maximumClients` are
/// served at once, and those past it are accepted and closed at once, so a flood of connections
/// costs an accept and a close each, never the master's attention. A connection is one request
/// (`Connection: close`).
///
/// Why the master and not a worker: the master is the one process that sees every worker, their
/// departures and the listeners; a worker answering would report itself only.
final class MetricsServer {
    let address: SocketAddress
    let listener: FileDescriptor
    private var clients: [FileDescriptor: Client] = [:]
    /// A unix socket this server created (removed at close if it is still the same file).
    private let unixInode: UInt64?
    /// Accepting failed for want of descriptors or memory (`EMFILE`, `ENOMEM`, …): the listener
    /// stays readable, so it is left out of the poll until then rather than waking every turn.
    private var acceptPausedUntil: Instant?

    private struct Client {
        var received: [UInt8] = []
        /// The answer, once there is one, and how much of it is written.
        var answer: [UInt8]?
        var written = 0
        let deadline: Instant
    }

    static let clientTimeout = Duration.seconds(2)
    static let maximumClients = 64
    /// Accepts per turn: a flood is taken in slices, so the rest of the turn is never starved.
    static let acceptsPerTurn = 256
    /// How long accepting rests after it failed.
    static let acceptPause = Duration.seconds(1)

    /// Binds `address`. During a binary upgrade (`takingOver`) the old master still holds it: a
    /// TCP address is joined (`SO_REUSEPORT`; the kernel splits scrapes between the two masters
    /// until the old one exits), a unix one is bound at a temporary name and renamed over the old.
    init(address: SocketAddress, takingOver: Bool) throws(SystemError) {
        switch address {
        case let .unix(path) where takingOver:
            (listener, unixInode) = try UnixSocketFile.listenReplacing(path, backlog: 64)
            self.address = address
        case let .unix(path):
            listener = try Socket.listen(on: address, backlog: 64)
            unixInode = try? FileSystem.status(atPath: path).inode
            self.address = address
        default:
            listener = try Socket.listen(on: address, backlog: 64, sharing: takingOver)
            unixInode = nil
            self.address = (try? Socket.localAddress(of: listener)) ?? address
        }
    }

    /// Watched for input: the listener and the clients still sending their request.
    var readDescriptors: [FileDescriptor] {
        (acceptPausedUntil == nil ? [listener] : []) + clients.filter { $0.value.answer == nil }.keys.sorted { $0.rawValue < $1.rawValue }
    }

    /// Watched for room: the clients with an answer not yet written out.
    var writeDescriptors: [FileDescriptor] {
        clients.filter { $0.value.answer != nil }.keys.sorted { $0.rawValue < $1.rawValue }
    }

    var nextDeadline: Instant? { (clients.values.map(\.deadline) + [acceptPausedUntil].compactMap { $0 }).min() }

    var clientCount: Int { clients.count }

    /// One turn's work: accept, read requests, answer them (`page` renders the body), write what
    /// the sockets take, drop clients past their deadline.
    func serve(readable: Set<FileDescriptor>, writable: Set<FileDescriptor>, now: Instant, page: () -> String) {
        if let until = acceptPausedUntil, now >= until { acceptPausedUntil = nil }
        if readable.contains(listener) { accept(now: now) }
        for fd in Array(clients.keys) where readable.contains(fd) { read(fd, page: page) }
        for fd in Array(clients.keys) where writable.contains(fd) || clients[fd]?.answer != nil { write(fd) }
        for (fd, client) in clients where now >= client.deadline { drop(fd) }
    }

    private func accept(now: Instant) {
        for _ in 0..<Self.acceptsPerTurn {
            let accepted: FileDescriptor?
            do {
                accepted = try Socket.accept(listener)
            } catch {
                acceptPausedUntil = now + Self.acceptPause
                return
            }
            guard let fd = accepted else { return }
            guard clients.count < Self.maximumClients else {
                fd.close()
                continue
            }
            clients[fd] = Client(deadline: now + Self.clientTimeout)
        }
    }

    private func read(_ fd: FileDescriptor, page: () -> String) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while var client = clients[fd], client.answer == nil {
            let count: Int?
            do {
                count = try buffer.withUnsafeMutableBytes { (raw) throws(SystemError) in try fd.read(into: raw) }
            } catch {
                return drop(fd)
            }
            guard let count else { return }
            guard count > 0 else { return drop(fd) }
            client.received += buffer[..<count]
            if let request = MetricsRequest.parse(client.received) {
                client.answer = Self.answer(request, page: page)
                client.received = []
            }
            clients[fd] = client
        }
    }

    private func write(_ fd: FileDescriptor) {
        guard var client = clients[fd], let answer = client.answer else { return }
        while client.written < answer.count {
            let taken: Int?
            do {
                taken = try answer.withUnsafeBytes { (raw) throws(SystemError) in
                    try Socket.send(fd, UnsafeRawBufferPointer(rebasing: raw[client.written...]))
                }
            } catch {
                return drop(fd)
            }
            guard let taken, taken > 0 else {
                clients[fd] = client
                return
            }
            client.written += taken
        }
        drop(fd)
    }

    /// The whole response: the page, or a refusal with a one-line reason.
    static func answer(_ request: MetricsRequest, page: () -> String) -> [UInt8] {
        var head = ""
        var body = ""
        switch request {
        case let .page(headOnly):
            let text = page()
            head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: \(text.utf8.count)\r\n"
            body = headOnly ? "" : text
        default:
            guard let refusal = request.refusal else { return [] }
            body = request == .notFound ? "only /metrics is served here\n" : "\(refusal.reason)\n"
            head = "HTTP/1.1 \(refusal.code) \(refusal.reason)\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\n"
            if request == .methodNotAllowed { head += "Allow: GET, HEAD\r\n" }
        }
        return Array((head + "Connection: close\r\n\r\n" + body).utf8)
    }

    private func drop(_ fd: FileDescriptor) {
        clients.removeValue(forKey: fd)
        fd.close()
    }

    /// The address still leads here: always for TCP; for a unix socket, the file at its path is
    /// still the one this server created (a failed new master may have replaced it).
    var ownsPath: Bool {
        guard case let .unix(path) = address else { return true }
        return (try? FileSystem.status(atPath: path))?.inode == unixInode
    }

    /// Closes everything; removes a unix socket file if it is still the one this server created.
    func close() {
        for fd in clients.keys { fd.close() }
        clients = [:]
        listener.close()
        if case let .unix(path) = address, unixInode != nil, ownsPath { try? FileSystem.remove(path) }
    }
}
