import CLinux
import Posix
import Synchronization

/// Runs every job of a worker on its loop thread: the `SerialExecutor` of `LoopActor`, and, once
/// installed, the process's global executor too (see `installAsGlobalExecutor`).
///
/// Jobs enqueued from the loop thread itself, the hot path (a continuation resumed by an epoll
/// event), go to a plain array: no lock, no syscall. Jobs from other threads (the blocking-work
/// pool) go through a mutex-protected queue and an eventfd write that wakes `epoll_wait`.
public final class LoopExecutor: SerialExecutor, @unchecked Sendable {
    // Unchecked exclusivity (the check cost ~14% of the instructions per request, DESIGN.md). Safe
    // because no access to these fields overlaps another: no `inout` access spans a suspension point
    // or a call that touches the same field. It is not about threads.
    @exclusivity(unchecked) private var local: [UnownedJob] = []
    @exclusivity(unchecked) private var running: [UnownedJob] = []
    private let remote = Mutex<[UnownedJob]>([])
    private let loopThread: ThreadIdentity
    /// Incremented by other threads to wake the loop; registered in the reactor's epoll.
    let wakeup: EventCounter

    init() throws(SystemError) {
        loopThread = .current
        wakeup = try EventCounter()
        local.reserveCapacity(1024)
        running.reserveCapacity(1024)
    }

    @inline(__always)
    var isLoopThread: Bool { loopThread.isCurrent }

    public func enqueue(_ job: consuming ExecutorJob) {
        enqueueUnowned(UnownedJob(job))
    }

    func enqueueUnowned(_ job: UnownedJob) {
        if isLoopThread {
            local.append(job)
            return
        }
        remote.withLock { $0.append(job) }
        wakeup.increment()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func isSameExclusiveExecutionContext(other: LoopExecutor) -> Bool { other === self }

    public func checkIsolated() {
        precondition(isLoopThread, "expected to run on the worker's loop thread")
    }

    var hasWork: Bool { !local.isEmpty }

    /// Runs the jobs queued so far (one batch: jobs they enqueue wait for the next turn, so a task
    /// that keeps yielding cannot starve I/O).
    ///
    /// Jobs run on this executor as a serial executor only, never claiming to be a task's preferred
    /// task executor: tasks here carry no preference (this loop is the global executor), and
    /// claiming one let the runtime resume a task mid-function while another was still between its
    /// read and its write (seen as crossed echo replies).
    ///
    /// Kept out of line, where the optimizer had always left it: inlined into `EventLoop.turn` (a
    /// function of its own since tests drive the loop turn by turn), it changed the worker's `run()`.
    @inline(never)
    func runQueuedJobs() {
        if local.isEmpty { return }
        swap(&local, &running)
        let serial = asUnownedSerialExecutor()
        for job in running { job.runSynchronously(on: serial) }
        running.removeAll(keepingCapacity: true)
    }

    /// Moves jobs other threads queued onto the loop's own queue (after an eventfd wakeup).
    func adoptRemoteJobs() {
        wakeup.reset()
        let jobs = remote.withLock { jobs -> [UnownedJob] in
            defer { jobs.removeAll() }
            return jobs
        }
        local.append(contentsOf: jobs)
    }
}

/// A job the runtime asked to run after a delay (`Task.sleep`), parked in the loop's timer heap.
final class DelayedJob: TimerTarget {
    let job: UnownedJob
    unowned let executor: LoopExecutor

    init(_ job: UnownedJob, executor: LoopExecutor) {
        self.job = job
        self.executor = executor
    }

    override func timerFired(now: UInt64) { executor.enqueueUnowned(job) }
}

extension EventLoop {
    /// Makes this loop the process's global executor (see `clinux_install_global_executor`): every
    /// job of the worker then runs here, which is the worker's design (one thread), now enforced for
    /// code that is not `LoopActor`-isolated too. It also spares the connection tasks a task-executor
    /// preference, which the runtime looks up under a lock on every resume.
    /// Call it once, in the worker, before any task is created.
    public func installAsGlobalExecutor() {
        clinux_install_global_executor(
            { job in
                EventLoop.current.executor.enqueueUnowned(unsafeBitCast(job, to: UnownedJob.self))
            },
            { delay, job in
                let loop = EventLoop.current
                guard loop.executor.isLoopThread, let job else { return 0 }
                let unowned = unsafeBitCast(job, to: UnownedJob.self)
                loop.timers.schedule(DelayedJob(unowned, executor: loop.executor), at: Instant.now.nanoseconds &+ UInt64(delay))
                return 1
            })
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
