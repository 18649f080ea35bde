import Glibc

/// A counting semaphore between the threads of one process (`sem_init(pshared: 0)`): a pool's
/// threads sleep in `wait` until work is posted. Heap-allocated, because a `sem_t` must not move;
/// a POSIX semaphore is made to be used from several threads at once, hence `@unchecked Sendable`.
public final class Semaphore: @unchecked Sendable {
    private let raw: UnsafeMutablePointer<sem_t>

    /// A semaphore holding `value`.
    public init(value: UInt32 = 0) {
        raw = .allocate(capacity: 1)
        // Fails only for a value above SEM_VALUE_MAX (EINVAL), which a UInt32 of ours never is.
        _ = sem_init(raw, 0, value)
    }

    deinit {
        sem_destroy(raw)
        raw.deallocate()
    }

    /// `sem_post`: one more; wakes one waiter.
    public func signal() {
        _ = sem_post(raw)
    }

    /// `sem_wait`: takes one, sleeping until there is one; retried when a signal interrupts it.
    public func wait() {
        while sem_wait(raw) != 0 && Errno.current == .interrupted {}
    }
}
