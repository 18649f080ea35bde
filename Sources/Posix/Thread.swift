import Glibc

/// Which POSIX thread code runs on (`pthread_self`, `pthread_equal`): a loop's executor takes a job
/// from its own thread without a lock, and from any other through a queue and a wakeup.
public struct ThreadIdentity: Sendable {
    @usableFromInline let raw: pthread_t

    @inlinable @inline(__always)
    public static var current: ThreadIdentity { ThreadIdentity(raw: pthread_self()) }

    @inlinable @inline(__always)
    init(raw: pthread_t) { self.raw = raw }

    /// True on the thread this identity was taken on.
    @inlinable @inline(__always)
    public var isCurrent: Bool { pthread_equal(pthread_self(), raw) != 0 }
}

/// A detached POSIX thread: runs `body`, then ends; nobody joins it.
public enum DetachedThread {
    /// `pthread_create` then `pthread_detach`. Throws when the system refuses a thread (`EAGAIN`:
    /// out of threads or memory); `body` then never runs.
    public static func start(_ body: @escaping @Sendable () -> Void) throws(SystemError) {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            Unmanaged<Body>.fromOpaque(context).takeRetainedValue().run()
            return nil
        }, box)
        // pthread_* return the error number; they do not set errno.
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            throw SystemError("pthread_create", errno: Errno(rawValue: result))
        }
        _ = pthread_detach(thread)
    }

    /// The closure, boxed to cross `pthread_create`'s `void *` argument.
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}
