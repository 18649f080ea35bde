import CLinux
import Glibc

/// Socket system calls on a `FileDescriptor`.
public enum Socket {
    /// Opens, configures, binds and listens on `address`; the descriptor is `CLOEXEC` and non-blocking.
    ///
    /// TCP listeners get `SO_REUSEADDR` (restart while old connections sit in TIME_WAIT) and
    /// `SO_REUSEPORT` (a process that means to can listen beside us). `SO_REUSEPORT` would also let
    /// a second instance started by mistake join silently and take half the connections, so unless
    /// `sharing`, an address another socket listens on is refused first (`EADDRINUSE`, see
    /// `refuseLiveListener`). IPv6 listeners are `IPV6_V6ONLY`, so `[::]:80` and `0.0.0.0:80` can
    /// both be configured. A unix socket path left by a dead server is removed; one a live server
    /// still answers on is not.
    public static func listen(on address: SocketAddress, backlog: Int32, sharing: Bool = false) throws(SystemError) -> FileDescriptor {
        if case let .unix(path) = address { try removeStaleUnixSocket(at: path) }
        if !sharing && !address.isUnix { try refuseLiveListener(on: address) }
        let raw = try syscall("socket") { socket(address.family, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue) | CInt(SOCK_NONBLOCK.rawValue), 0) }
        let fd = FileDescriptor(rawValue: raw)
        do {
            if !address.isUnix {
                try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
                try setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1)
            }
            if case .ipv6 = address { try setOption(fd, CInt(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
            _ = try address.withSockAddr { (pointer, length) throws(SystemError) in
                try syscall("bind") { Glibc.bind(raw, pointer, length) }
            }
            _ = try syscall("listen") { Glibc.listen(raw, backlog) }
            return fd
        } catch {
            fd.close()
            throw error.on(address.description)
        }
    }

    /// A blocking, `CLOEXEC` stream connection to `address` (for short command-line exchanges,
    /// such as `supervisor status` talking to the master's control socket).
    /// `timeout` bounds the connect and every later send (`SO_SNDTIMEO`; for a unix socket whose
    /// listener's queue is full, connect itself waits that long at most).
    public static func connect(to address: SocketAddress, timeout: Duration? = nil) throws(SystemError) -> FileDescriptor {
        let raw = try syscall("socket") { socket(address.family, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0) }
        let fd = FileDescriptor(rawValue: raw)
        do {
            if let timeout {
                let (seconds, attoseconds) = timeout.components
                var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
                _ = try syscall("setsockopt") { setsockopt(raw, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size)) }
            }
            _ = try address.withSockAddr { (pointer, length) throws(SystemError) in
                try syscall("connect") { Glibc.connect(raw, pointer, length) }
            }
            return fd
        } catch {
            fd.close()
            throw error.on(address.description)
        }
    }

    /// Throws `EADDRINUSE` when a socket already listens on `address` (or on a wildcard covering
    /// it), whoever holds it. The probe binds with `SO_REUSEADDR` but without `SO_REUSEPORT`: Linux
    /// then refuses exactly the ports with a listener, while TIME_WAIT and other connected
    /// sockets (a restart's leftovers) do not count. Port 0 is always free of one.
    static func refuseLiveListener(on address: SocketAddress) throws(SystemError) {
        switch address {
        case let .ipv4(_, port), let .ipv6(_, port): guard port != 0 else { return }
        case .unix: return
        }
        let probe = try syscall("socket") { socket(address.family, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0) }
        let fd = FileDescriptor(rawValue: probe)
        defer { fd.close() }
        do {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if case .ipv6 = address { try setOption(fd, CInt(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
            _ = try address.withSockAddr { (pointer, length) throws(SystemError) in
                try syscall("bind") { Glibc.bind(probe, pointer, length) }
            }
        } catch where error.errno == .addressInUse {
            throw SystemError("bind", errno: .addressInUse,
                              object: "\(address) (another process listens there; --share-port to split its connections with it)")
        }
    }

    /// Makes a listening socket admit no new connection, while those already in its accept queue
    /// can still be accepted: a socket filter drops new SYNs, which go unanswered (the client
    /// retries, and a load balancer moves on to another host), and lets a handshake under way
    /// finish, so that client joins the queue rather than hang until the close resets it. Closing
    /// a listener resets every connection still queued on it, requests sent included; a stop does
    /// this first, then accepts what is queued, and only then closes.
    public static func refuseNewConnections(_ fd: FileDescriptor) throws(SystemError) {
        _ = try syscall("setsockopt(SO_ATTACH_FILTER)") { clinux_drop_new_connections(fd.rawValue) }
    }

    /// A unix socket file whose server is gone refuses connections: remove it so `bind` can succeed.
    /// A file that is not a socket, or a socket that still accepts, is left alone (bind then fails
    /// with `EADDRINUSE`, which names the path).
    static func removeStaleUnixSocket(at path: String) throws(SystemError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else { return }
        let probe = try syscall("socket") { socket(AF_UNIX, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0) }
        defer { _ = Glibc.close(probe) }
        let result = try SocketAddress.unix(path: path).withSockAddr { (pointer, length) throws(SystemError) in
            Glibc.connect(probe, pointer, length)
        }
        if result == 0 { throw SystemError("bind", errno: .addressInUse, object: "unix:\(path) (a live server answers there)") }
        if Errno.current == .connectionRefused { _ = unlink(path) }
    }

    /// The address the kernel actually bound (the real port when port 0 was asked for).
    public static func localAddress(of fd: FileDescriptor) throws(SystemError) -> SocketAddress {
        try address(of: fd, "getsockname", getsockname)
    }

    /// The address of the other end (`getpeername`).
    public static func peerAddress(of fd: FileDescriptor) throws(SystemError) -> SocketAddress {
        try address(of: fd, "getpeername", getpeername)
    }

    private static func address(
        of fd: FileDescriptor, _ name: StaticString, _ call: (CInt, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> CInt
    ) throws(SystemError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { (pointer) throws(SystemError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(SystemError) in
                try syscall(name) { call(fd.rawValue, address, &length) }
            }
        }
        guard let address = withUnsafeBytes(of: &storage, { $0.baseAddress.flatMap(SocketAddress.init(storage:)) }) else {
            throw SystemError("\(name)", errno: Errno(rawValue: EAFNOSUPPORT))
        }
        return address
    }

    /// `accept4(SOCK_CLOEXEC | SOCK_NONBLOCK)`; `nil` when the queue is empty.
    @inline(__always)
    public static func accept(_ listener: FileDescriptor) throws(SystemError) -> FileDescriptor? {
        let flags = CInt(SOCK_CLOEXEC.rawValue) | CInt(SOCK_NONBLOCK.rawValue)
        guard let raw = try nonBlockingSyscall("accept4", { clinux_accept4(listener.rawValue, nil, nil, flags) }) else { return nil }
        return FileDescriptor(rawValue: raw)
    }

    /// `shutdown(SHUT_WR)`: sends FIN while reading goes on (a lingering close).
    public static func shutdownWrite(_ fd: FileDescriptor) throws(SystemError) {
        do { _ = try syscall("shutdown") { Glibc.shutdown(fd.rawValue, CInt(SHUT_WR)) } } catch { throw error.on(fd.description) }
    }

    /// `socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC)`: message boundaries are kept, and closing
    /// one end gives the other EOF, which is how a worker learns that its master is gone.
    public static func seqpacketPair() throws(SystemError) -> (FileDescriptor, FileDescriptor) {
        try unixPair(CInt(SOCK_SEQPACKET.rawValue))
    }

    /// `socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC)`: a connection without a
    /// listener, for driving one end the way a worker drives an accepted socket.
    public static func nonBlockingStreamPair() throws(SystemError) -> (FileDescriptor, FileDescriptor) {
        try unixPair(CInt(SOCK_STREAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue))
    }

    private static func unixPair(_ type: CInt) throws(SystemError) -> (FileDescriptor, FileDescriptor) {
        var fds: [CInt] = [-1, -1]
        _ = try syscall("socketpair") {
            fds.withUnsafeMutableBufferPointer { socketpair(AF_UNIX, type | CInt(SOCK_CLOEXEC.rawValue), 0, $0.baseAddress) }
        }
        return (FileDescriptor(rawValue: fds[0]), FileDescriptor(rawValue: fds[1]))
    }

    public static func setOption(_ fd: FileDescriptor, _ level: CInt, _ name: CInt, _ value: CInt) throws(SystemError) {
        var value = value
        _ = try syscall("setsockopt") { setsockopt(fd.rawValue, level, name, &value, socklen_t(MemoryLayout<CInt>.size)) }
    }

    public static func getOption(_ fd: FileDescriptor, _ level: CInt, _ name: CInt) throws(SystemError) -> CInt {
        var value: CInt = 0
        var length = socklen_t(MemoryLayout<CInt>.size)
        _ = try syscall("getsockopt") { getsockopt(fd.rawValue, level, name, &value, &length) }
        return value
    }

    /// `send(MSG_NOSIGNAL | MSG_DONTWAIT)`: a peer that vanished gives `EPIPE`, never a SIGPIPE.
    public static func send(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int? {
        try nonBlockingSyscall("send") { Glibc.send(fd.rawValue, bytes.baseAddress, bytes.count, CInt(MSG_NOSIGNAL) | CInt(MSG_DONTWAIT)) }
    }

    /// `recv(MSG_DONTWAIT)`.
    public static func receive(_ fd: FileDescriptor, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        try nonBlockingSyscall("recv") { Glibc.recv(fd.rawValue, buffer.baseAddress, buffer.count, CInt(MSG_DONTWAIT)) }
    }
}
