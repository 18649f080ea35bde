import CLinux
import Glibc
import Posix
import Synchronization

/// Runs every job of a worker on its loop thread: a `SerialExecutor` (for `LoopActor`) and a
/// `TaskExecutor` (so even nonisolated async code started on the loop stays on it).
///
/// Jobs enqueued from the loop thread itself, the hot path (a continuation resumed by an epoll
/// event), go to a plain array: no lock, no syscall. Jobs from other threads (the blocking-work
/// pool) go through a mutex-protected queue and an eventfd write that wakes `epoll_wait`.
public final class LoopExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    /// Touched only on the loop thread.
    private var local: [UnownedJob] = []
    private var running: [UnownedJob] = []
    private let remote = Mutex<[UnownedJob]>([])
    private let loopThread: pthread_t
    /// Written by other threads to wake the loop; registered in the reactor's epoll.
    let wakeup: FileDescriptor

    init() throws(SystemError) {
        loopThread = pthread_self()
        let raw = try syscall("eventfd") { eventfd(0, CInt(EFD_CLOEXEC) | CInt(EFD_NONBLOCK)) }
        wakeup = FileDescriptor(rawValue: raw)
        local.reserveCapacity(1024)
        running.reserveCapacity(1024)
    }

    @inline(__always)
    var isLoopThread: Bool { pthread_equal(pthread_self(), loopThread) != 0 }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if isLoopThread {
            local.append(job)
            return
        }
        remote.withLock { $0.append(job) }
        var one: UInt64 = 1
        _ = Glibc.write(wakeup.rawValue, &one, 8)
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    public func isSameExclusiveExecutionContext(other: LoopExecutor) -> Bool { other === self }

    public func checkIsolated() {
        precondition(isLoopThread, "expected to run on the worker's loop thread")
    }

    var hasWork: Bool { !local.isEmpty }

    /// Runs the jobs queued so far (one batch: jobs they enqueue wait for the next turn, so a task
    /// that keeps yielding cannot starve I/O).
    func runQueuedJobs() {
        if local.isEmpty { return }
        swap(&local, &running)
        let serial = asUnownedSerialExecutor()
        let task = asUnownedTaskExecutor()
        for job in running { job.runSynchronously(isolatedTo: serial, taskExecutor: task) }
        running.removeAll(keepingCapacity: true)
    }

    /// Moves jobs other threads queued onto the loop's own queue (after an eventfd wakeup).
    func adoptRemoteJobs() {
        var count: UInt64 = 0
        _ = Glibc.read(wakeup.rawValue, &count, 8)
        let jobs = remote.withLock { jobs -> [UnownedJob] in
            defer { jobs.removeAll() }
            return jobs
        }
        local.append(contentsOf: jobs)
    }
}

/// The isolation domain of a worker's loop. Everything a connection handler touches lives here,
/// so handlers are plain `async` functions with no locks, like asyncio coroutines.
@globalActor
public actor LoopActor {
    public static let shared = LoopActor()

    public static var sharedUnownedExecutor: UnownedSerialExecutor {
        EventLoop.current.executor.asUnownedSerialExecutor()
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor { Self.sharedUnownedExecutor }
}

extension LoopActor {
    /// Runs `body` in `LoopActor`'s domain from a synchronous callback that the loop invokes on its
    /// thread outside any task (epoll sources, timers). Traps if called from any other thread.
    /// The same technique as the standard library's `MainActor.assumeIsolated`.
    public static func assumeIsolated<T>(_ body: @LoopActor () throws -> T) rethrows -> T {
        typealias Isolated = @LoopActor () throws -> T
        typealias Plain = () throws -> T
        EventLoop.current.executor.checkIsolated()
        return try withoutActuallyEscaping(body) { (isolated: @escaping Isolated) throws -> T in
            try unsafeBitCast(isolated, to: Plain.self)()
        }
    }
}
