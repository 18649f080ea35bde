import Posix

/// Why a wait for readiness ended.
public enum IOWakeup: Sendable {
    /// An event arrived: try the call again.
    case ready
    /// The deadline passed first.
    case timedOut
    /// The worker is draining and this wait was for an idle connection's next request.
    case draining
    /// The loop is closing everything (drain deadline reached).
    case cancelled
}

/// Told on the loop when a read it waits for may go on: for a reader that waits without a task
/// (an idle keep-alive connection, which then holds no task and none of its memory).
public protocol ReadinessListener: AnyObject {
    /// `.ready` (bytes, or the peer's FIN), `.timedOut`, or `.cancelled` (closed, or the loop is
    /// closing everything). Called from the loop itself: it must not block or wait.
    func readinessChanged(_ wakeup: IOWakeup)
}

/// Told on the loop when a write it waits for may go on: for a writer that waits without a task
/// (a large file sent to a slow client, which then holds no task and none of its memory).
public protocol WritabilityListener: AnyObject {
    /// `.ready` (room in the socket's buffer, or an error to find), `.timedOut`, or `.cancelled`
    /// (closed, or the loop is closing everything). Called from the loop itself: it must not
    /// block or wait.
    func writabilityChanged(_ wakeup: IOWakeup)
}

/// One descriptor registered in the loop's epoll, edge-triggered, once, for both directions.
///
/// A task that hits `EAGAIN` parks its continuation here and the reactor resumes it on the next
/// event. Touched only on the loop thread.
final class IOHandle: TimerTarget {
    let fd: FileDescriptor
    /// Distinguishes this registration from a later one that reuses the same fd number.
    let token: UInt32
    // Unchecked exclusivity (the check cost ~14% of the instructions per request, DESIGN.md). Safe
    // because no access to these fields overlaps another: no `inout` access spans a suspension point
    // or a call that touches the same field. It is not about threads.
    @exclusivity(unchecked) var readWaiter: UnsafeContinuation<IOWakeup, Never>?
    @exclusivity(unchecked) var writeWaiter: UnsafeContinuation<IOWakeup, Never>?
    /// Waits for input instead of a task, when no `readWaiter` does. Not retained: a listener
    /// outlives its registration (`Connection.whenReadable`), and the hot path saves a retain
    /// and a release per wait.
    @exclusivity(unchecked) unowned(unsafe) var readListener: (any ReadinessListener)?
    /// Waits for room to write instead of a task, when no `writeWaiter` does. Not retained, as
    /// `readListener`.
    @exclusivity(unchecked) unowned(unsafe) var writeListener: (any WritabilityListener)?
    /// The waiting read is for the next request on an otherwise idle connection: a drain may end it.
    @exclusivity(unchecked) var readIsIdle = false
    /// False once a read came back short or with `EAGAIN`, true again at the next input edge: with
    /// edge-triggered epoll, a short read means the socket had nothing more at that instant and any
    /// later byte brings a new event, so the next read can wait for that event instead of spending a
    /// syscall to learn `EAGAIN` (nginx's `rev->ready`). Set by every event, waiter or not, so an
    /// edge that comes while the task waits for something else is not lost.
    @exclusivity(unchecked) var readReady = true
    /// The peer's FIN (or an error) has been reported (`EPOLLRDHUP`/`HUP`/`ERR`). Edge-triggered
    /// epoll reports it once, possibly in the same event as the last data: after that, a short read
    /// must not clear `readReady`, or the EOF would never be read (nginx's `pending_eof`).
    @exclusivity(unchecked) var peerClosed = false
    /// When the current wait gives up (0: never). A field, so that moving it later costs no heap
    /// operation: the heap entry (at most one, see `TimerHeap`) fires at its own instant, and
    /// `timerFired` puts it back for this one. Removed from the heap when the handle closes.
    @exclusivity(unchecked) var deadline: UInt64 = 0
    @exclusivity(unchecked) var isClosed = false
    /// Strong: the loop outlives every handle (one per process, never freed), so this makes no
    /// leak, and a `let` is used without the retain and release that an `unowned` one costs at
    /// each use on the hot path.
    let loop: EventLoop

    init(fd: FileDescriptor, token: UInt32, loop: EventLoop) {
        self.fd = fd
        self.token = token
        self.loop = loop
    }

    func resumeRead(_ wakeup: IOWakeup) {
        if let waiter = readWaiter {
            readWaiter = nil
            waiter.resume(returning: wakeup)
        } else if let listener = readListener {
            readListener = nil
            listener.readinessChanged(wakeup)
        }
    }

    func resumeWrite(_ wakeup: IOWakeup) {
        if let waiter = writeWaiter {
            writeWaiter = nil
            waiter.resume(returning: wakeup)
        } else if let listener = writeListener {
            writeListener = nil
            listener.writabilityChanged(wakeup)
        }
    }

    override func timerFired(now: UInt64) {
        guard !isClosed, readWaiter != nil || writeWaiter != nil || readListener != nil || writeListener != nil, deadline != 0 else { return }
        if deadline <= now {
            resumeRead(.timedOut)
            resumeWrite(.timedOut)
        } else {
            loop.timers.schedule(self, at: deadline)
        }
    }

    /// Arms the deadline for a wait that is about to start.
    func arm(timeout: Duration?) {
        guard let timeout else { deadline = 0; return }
        arm(nanoseconds: timeout.nanoseconds)
    }

    /// `arm(timeout:)` for a timeout already in nanoseconds: `Duration.nanoseconds` costs 128-bit
    /// arithmetic (~200 instructions), too much to pay per request for a fixed setting.
    func arm(nanoseconds: Int64) {
        deadline = loop.now &+ UInt64(max(0, nanoseconds))
        if let scheduled = loop.timers.deadline(of: self), scheduled <= deadline { return }
        loop.timers.schedule(self, at: deadline)
    }
}
