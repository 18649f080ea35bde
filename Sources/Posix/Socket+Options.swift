import CLinux
import Glibc

/// Socket options named for what they do, so callers need neither the `SO_*` constants nor `timeval`.
extension Socket {
    /// `SO_SNDTIMEO`: a blocking send on `fd` gives up after `timeout` (`EAGAIN`), so a peer that
    /// does not read cannot hold a single-threaded process (the master answering its control socket).
    public static func setSendTimeout(_ fd: FileDescriptor, _ timeout: Duration) throws(SystemError) {
        let (seconds, attoseconds) = timeout.components
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        _ = try syscall("setsockopt") { setsockopt(fd.rawValue, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size)) }
    }

    /// `SO_ACCEPTCONN`: whether `fd` is a socket in the listening state (an inherited descriptor
    /// must be one before it is handed to the accept loops).
    public static func isListening(_ fd: FileDescriptor) throws(SystemError) -> Bool {
        try getOption(fd, SOL_SOCKET, SO_ACCEPTCONN) == 1
    }

    /// `TCP_NODELAY`: small writes go out at once instead of waiting for the previous one's ACK
    /// (Nagle). Fails with `EOPNOTSUPP` on a unix socket.
    public static func setNoDelay(_ fd: FileDescriptor) throws(SystemError) {
        try setOption(fd, CInt(IPPROTO_TCP), TCP_NODELAY, 1)
    }

    /// `TCP_CORK`: while on, only full segments go out (what `TCP_NODELAY` would push at once
    /// waits for the next write); turning it off sends what is held.
    public static func setCork(_ fd: FileDescriptor, _ on: Bool) throws(SystemError) {
        try setOption(fd, CInt(IPPROTO_TCP), TCP_CORK, on ? 1 : 0)
    }
}

extension Socket {
    /// The length of a TCP listener's accept queue: `getsockopt(TCP_INFO)`, whose `tcpi_unacked`
    /// on a socket in `LISTEN` is the number of connections waiting for `accept` (Linux's
    /// `tcp_get_info`). Fails on a unix socket, which has no such figure.
    public static func acceptQueueLength(_ fd: FileDescriptor) throws(SystemError) -> UInt32 {
        var info = tcp_info()
        var length = socklen_t(MemoryLayout<tcp_info>.size)
        do {
            _ = try syscall("getsockopt(TCP_INFO)") { getsockopt(fd.rawValue, CInt(IPPROTO_TCP), TCP_INFO, &info, &length) }
        } catch {
            throw error.on(fd.description)
        }
        return info.tcpi_unacked
    }
}
