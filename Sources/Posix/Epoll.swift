import CLinux
import Glibc

/// An epoll instance (`epoll_create1(EPOLL_CLOEXEC)`) and the buffer its events come back in:
/// a worker's reactor. The instance lives as long as the process's loop.
public final class Epoll {
    /// The `EPOLL*` flags of a registration and of an event. Computed and inlinable, not stored
    /// `static let`s: a stored one costs a `swift_once` check per use from another module, and
    /// `dispatch` tests five of them per event.
    public struct Events: OptionSet, Sendable {
        public let rawValue: UInt32
        @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// `EPOLLIN`
        @inlinable public static var input: Events { Events(rawValue: EPOLLIN.rawValue) }
        /// `EPOLLOUT`
        @inlinable public static var output: Events { Events(rawValue: EPOLLOUT.rawValue) }
        /// `EPOLLRDHUP`: the peer shut down its writing side (sent FIN).
        @inlinable public static var peerClosed: Events { Events(rawValue: EPOLLRDHUP.rawValue) }
        /// `EPOLLHUP`, always reported.
        @inlinable public static var hangUp: Events { Events(rawValue: EPOLLHUP.rawValue) }
        /// `EPOLLERR`, always reported.
        @inlinable public static var error: Events { Events(rawValue: EPOLLERR.rawValue) }
        /// `EPOLLET`: report changes of readiness, not readiness.
        @inlinable public static var edgeTriggered: Events { Events(rawValue: EPOLLET.rawValue) }
        /// `EPOLLEXCLUSIVE`: of the instances waiting on one file, wake one, not all.
        @inlinable public static var exclusive: Events { Events(rawValue: EPOLLEXCLUSIVE.rawValue) }
    }

    public let fd: FileDescriptor
    public let capacity: Int
    @usableFromInline let events: UnsafeMutablePointer<epoll_event>
    /// False once `epoll_pwait2` said `ENOSYS` (Linux before 5.11, or valgrind).
    // Unchecked exclusivity (the check cost ~14% of the instructions per request, DESIGN.md). Safe
    // because no access to these fields overlaps another: no `inout` access spans a suspension point
    // or a call that touches the same field. It is not about threads.
    @exclusivity(unchecked) @usableFromInline var hasPwait2 = true

    /// An instance whose `wait` returns up to `capacity` events at a time.
    public init(capacity: Int) throws(SystemError) {
        fd = FileDescriptor(rawValue: try syscall("epoll_create1") { epoll_create1(CInt(EPOLL_CLOEXEC)) })
        self.capacity = capacity
        events = .allocate(capacity: capacity)
    }

    deinit {
        events.deallocate()
        fd.close()
    }

    /// `epoll_ctl(EPOLL_CTL_ADD)`: watch `target` for `interest`; its events carry `data`.
    public func add(_ target: FileDescriptor, interest: Events, data: UInt64) throws(SystemError) {
        var event = epoll_event()
        event.events = interest.rawValue
        event.data.u64 = data
        do {
            _ = try syscall("epoll_ctl") { epoll_ctl(fd.rawValue, EPOLL_CTL_ADD, target.rawValue, &event) }
        } catch {
            throw error.on("ADD, \(target)")
        }
    }

    /// `epoll_ctl(EPOLL_CTL_DEL)`: stop watching `target`. Needed before closing a descriptor
    /// another process still holds: epoll forgets a file only when its last descriptor closes.
    public func remove(_ target: FileDescriptor) throws(SystemError) {
        do {
            _ = try syscall("epoll_ctl") { epoll_ctl(fd.rawValue, EPOLL_CTL_DEL, target.rawValue, nil) }
        } catch {
            throw error.on("DEL, \(target)")
        }
    }

    /// Waits for events, at most `nanoseconds` (nil: without limit), and returns how many are
    /// ready (read them with `event(at:)`); 0 when the time passed or a signal interrupted the
    /// wait (the caller's loop turns again and recomputes its timeout).
    ///
    /// `epoll_pwait2` takes a nanosecond timeout, so a timer fires when it is due rather than up
    /// to a millisecond late; `epoll_wait` (milliseconds, rounded up) where the kernel lacks it.
    /// Any error but `EINTR` means a broken instance (`EBADF`, `EFAULT`, `EINVAL`). Inlined into
    /// the loop: it runs once per turn, and as a call it cost ~15 instructions more.
    @inlinable @inline(__always)
    public func wait(nanoseconds: UInt64?) throws(SystemError) -> Int {
        var count: CInt
        if hasPwait2 {
            var spec = timespec()
            if let nanoseconds {
                spec.tv_sec = Int(nanoseconds / 1_000_000_000)
                spec.tv_nsec = Int(nanoseconds % 1_000_000_000)
            }
            count = withUnsafePointer(to: &spec) { pointer in
                epoll_pwait2(fd.rawValue, events, CInt(capacity), nanoseconds == nil ? nil : pointer, nil)
            }
            if count >= 0 { return Int(count) }
            let error = Errno.current
            if error == .interrupted { return 0 }
            guard error == .notImplemented else { throw SystemError("epoll_pwait2", errno: error, object: fd.description) }
            hasPwait2 = false
        }
        let millis = nanoseconds.map { CInt(clamping: ($0 + 999_999) / 1_000_000) } ?? -1
        count = epoll_wait(fd.rawValue, events, CInt(capacity), millis)
        if count >= 0 { return Int(count) }
        let error = Errno.current
        if error == .interrupted { return 0 }
        throw SystemError("epoll_wait", errno: error, object: fd.description)
    }

    /// The `index`th event of the last `wait`: its flags and the registration's data.
    @inlinable @inline(__always)
    public func event(at index: Int) -> (events: Events, data: UInt64) {
        let event = events[index]
        return (Events(rawValue: event.events), event.data.u64)
    }
}
