import Posix
import Settings

/// The master's control socket: a unix stream socket beside the pidfile, where
/// `supervisor status|reload|stop|scale` send one command line and read one reply.
///
/// Served from the master's own poll loop, without ever blocking it: a client has a second to send
/// its line, and a reply is written with a send timeout. The file is created at a temporary name and
/// renamed into place (a stale file from a crashed master is simply replaced), readable by the
/// owner only (whoever can connect can stop the server), and removed at exit only if it is still
/// ours: after a binary upgrade the path belongs to the new master.
///
/// Reply: `ok` and the body, or `error: message`, then the master closes the connection.
final class ControlServer {
    let path: String
    let listener: FileDescriptor
    private let inode: UInt64
    private var clients: [FileDescriptor: Client] = [:]

    private struct Client {
        var received: [UInt8] = []
        let deadline: Instant
    }

    static let clientTimeout = Duration.seconds(1)
    static let maximumLine = 256

    /// Names the socket's real path, not only the temporary one a `bind` failed on:
    /// `control socket /run/x.sock: bind(unix:/run/x.sock.42.tmp) failed: ENOENT (No such file or directory)`.
    struct SetupError: Error, CustomStringConvertible {
        let path: String
        let reason: String
        init(path: String, error: SystemError) { self.init(path: path, reason: error.description) }
        init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
        var description: String { "control socket \(path): \(reason)" }
    }

    /// The longest path a unix socket can have (`sun_path` less its NUL).
    static let maximumPathLength = Socket.unixPathCapacity - 1

    static func temporaryPath(for path: String) -> String { UnixSocketFile.temporaryPath(for: path) }

    /// Refuses, before anything is bound, a path too long for a unix socket (the pidfile's path
    /// decides it: the socket goes beside it, created at a longer temporary name first).
    static func checkPath(_ path: String) throws(SetupError) {
        let temporary = temporaryPath(for: path)
        let length = temporary.utf8.count
        guard length <= maximumPathLength else {
            throw SetupError(path: path, reason: "its temporary name \(temporary) is \(length) bytes, more than the \(maximumPathLength) "
                             + "a unix socket path can hold: choose a shorter --pidfile path")
        }
    }

    init(path: String) throws(SetupError) {
        try Self.checkPath(path)
        do {
            // Created owner-only from the start: no window in which others could connect.
            (listener, inode) = try FileSystem.withCreationMask(0o177) { () throws(SystemError) in
                try UnixSocketFile.listenReplacing(path, backlog: 16)
            }
        } catch {
            throw SetupError(path: path, error: error)
        }
        self.path = path
    }

    var descriptors: [FileDescriptor] { [listener] + clients.keys.sorted { $0.rawValue < $1.rawValue } }

    var nextDeadline: Instant? { clients.values.map(\.deadline).min() }

    /// Accepts new clients, reads the ready ones, answers complete commands, drops clients past
    /// their deadline.
    func serve(readable: Set<FileDescriptor>, now: Instant, answer: (ControlCommand?) -> String) {
        if readable.contains(listener) {
            while let client = try? Socket.accept(listener) {
                clients[client] = Client(deadline: now + Self.clientTimeout)
            }
        }
        for fd in Array(clients.keys) where readable.contains(fd) {
            read(fd, answer: answer)
        }
        for (fd, client) in clients where now >= client.deadline {
            reply("error: no command within 1 s\n", on: fd)
        }
    }

    private func read(_ fd: FileDescriptor, answer: (ControlCommand?) -> String) {
        var buffer = [UInt8](repeating: 0, count: Self.maximumLine)
        while var client = clients[fd] {
            let count: Int?
            do {
                count = try buffer.withUnsafeMutableBytes { (raw) throws(SystemError) in try fd.read(into: raw) }
            } catch {
                drop(fd)
                return
            }
            guard let count else { return }
            if count == 0 {
                drop(fd)
                return
            }
            client.received += buffer[..<count]
            clients[fd] = client
            if let newline = client.received.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: client.received[..<newline], as: UTF8.self)
                reply(answer(ControlCommand(line: line)), on: fd)
                return
            }
            if client.received.count > Self.maximumLine {
                reply("error: command line too long\n", on: fd)
                return
            }
        }
    }

    private func reply(_ text: String, on fd: FileDescriptor) {
        // A client that does not read must not hold the master: at most a second, then give up.
        try? fd.setNonBlocking(false)
        try? Socket.setSendTimeout(fd, .seconds(1))
        try? fd.writeAll(text)
        drop(fd)
    }

    private func drop(_ fd: FileDescriptor) {
        clients.removeValue(forKey: fd)
        fd.close()
    }

    /// The file at `path` is still the socket this master created (not replaced by a new master's).
    var ownsPath: Bool {
        (try? FileSystem.status(atPath: path))?.inode == inode
    }

    /// Closes everything; removes the file if it is still the one this master created.
    func close() {
        for fd in clients.keys { fd.close() }
        clients = [:]
        let owned = ownsPath
        listener.close()
        if owned { try? FileSystem.remove(path) }
    }
}
