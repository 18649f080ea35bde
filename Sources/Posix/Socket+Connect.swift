import Glibc

extension Socket {
    /// Starts a non-blocking connection to `address` (`socket(SOCK_NONBLOCK | SOCK_CLOEXEC)`, then
    /// `connect`), for a client on the event loop: `connected` is true when it completed at once
    /// (a unix socket, often loopback), false while it is in progress (`EINPROGRESS`): wait for the
    /// socket to be writable, then ask `connectOutcome`. TCP sockets get `TCP_NODELAY`: a request
    /// head written in one piece and its body in another must not wait for the delayed ACK.
    public static func startConnect(to address: SocketAddress) throws(SystemError) -> (fd: FileDescriptor, connected: Bool) {
        let flags = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue) | CInt(SOCK_NONBLOCK.rawValue)
        let raw = try syscall("socket") { socket(address.family, flags, 0) }
        let fd = FileDescriptor(rawValue: raw)
        do {
            if !address.isUnix { try setOption(fd, CInt(IPPROTO_TCP), TCP_NODELAY, 1) }
            let result = try address.withSockAddr { (pointer, length) throws(SystemError) in
                while true {
                    if Glibc.connect(raw, pointer, length) == 0 { return true }
                    let error = Errno.current
                    if error == .interrupted { continue }
                    // EINTR restarts nothing: the connection goes on in the background, as for EINPROGRESS.
                    if error.rawValue == EINPROGRESS { return false }
                    throw SystemError("connect", errno: error)
                }
            }
            return (fd, result)
        } catch {
            fd.close()
            throw error.on(address.description)
        }
    }

    /// How a connection started by `startConnect` ended, once its socket is writable
    /// (`getsockopt(SO_ERROR)`): nil when connected, else the `connect` error (`ECONNREFUSED`…).
    public static func connectOutcome(_ fd: FileDescriptor, to address: SocketAddress) -> SystemError? {
        do throws(SystemError) {
            let error = try getOption(fd, SOL_SOCKET, SO_ERROR)
            return error == 0 ? nil : SystemError("connect", errno: Errno(rawValue: error), object: address.description)
        } catch {
            return error.on(address.description)
        }
    }
}
