import Glibc

/// `poll(2)` over a handful of descriptors: the master's sleep. It waits on its signalfd and one
/// channel per worker, so the set is small and rebuilt each turn; epoll would buy nothing here.
public enum Poll {
    /// Waits until one of `fds` is readable (or hung up), or `timeout` passes. Returns the readable
    /// descriptors.
    public static func waitReadable(_ fds: [FileDescriptor], timeout: Duration?) throws(SystemError) -> [FileDescriptor] {
        try wait(readable: fds, writable: [], timeout: timeout).readable
    }

    /// Waits until one of `readable` has input (or hung up), one of `writable` can take bytes, or
    /// `timeout` passes: the master also writes metrics pages to scrapers that read slowly, and
    /// must never block on one.
    public static func wait(readable: [FileDescriptor], writable: [FileDescriptor],
                            timeout: Duration?) throws(SystemError) -> (readable: [FileDescriptor], writable: [FileDescriptor]) {
        var entries = readable.map { pollfd(fd: $0.rawValue, events: Int16(POLLIN), revents: 0) }
        entries += writable.map { pollfd(fd: $0.rawValue, events: Int16(POLLOUT), revents: 0) }
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
            if Errno.current == .interrupted { return ([], []) }
            throw SystemError("poll", errno: .current)
        }
        let split = readable.count
        let inputs = entries[..<split].filter { $0.revents != 0 }.map { FileDescriptor(rawValue: $0.fd) }
        let outputs = entries[split...].filter { $0.revents != 0 }.map { FileDescriptor(rawValue: $0.fd) }
        return (inputs, outputs)
    }
}
