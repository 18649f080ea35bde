import Glibc

/// `poll(2)` over a handful of descriptors: the master's sleep. It waits on its signalfd and one
/// channel per worker, so the set is small and rebuilt each turn; epoll would buy nothing here.
public enum Poll {
    /// Waits until one of `fds` is readable (or hung up), or `timeout` passes. Returns the readable
    /// descriptors.
    public static func waitReadable(_ fds: [FileDescriptor], timeout: Duration?) throws(SystemError) -> [FileDescriptor] {
        var entries = fds.map { pollfd(fd: $0.rawValue, events: Int16(POLLIN), revents: 0) }
        let millis: CInt
        if let timeout {
            // Round up: waking a millisecond early only to find nothing due is a wasted turn.
            let nanos = max(0, timeout.nanoseconds)
            millis = CInt(clamping: (nanos + 999_999) / 1_000_000)
        } else {
            millis = -1
        }
        let ready = poll(&entries, nfds_t(entries.count), millis)
        if ready < 0 {
            if Errno.current == .interrupted { return [] }
            throw SystemError("poll", errno: .current)
        }
        return entries.filter { $0.revents != 0 }.map { FileDescriptor(rawValue: $0.fd) }
    }
}
