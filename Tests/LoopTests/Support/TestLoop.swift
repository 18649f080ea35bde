import Glibc
import Posix
import XCTest

@testable import EventLoop

/// The process's one event loop, driven by a test on XCTest's thread instead of by `run()` in a
/// worker: the test starts tasks on it, then runs its turns until what it waits for has happened,
/// or fails at a deadline. Real sockets, real epoll, real timers; only who turns the loop differs.
///
/// The loop is booted once per test process, on the thread of the first test that asks (XCTest
/// runs every synchronous test on its main thread), and shared with `TimerHeapTests`. It is not
/// installed as the global executor: XCTest runs its `async` tests on the global executor, and
/// nothing turns this loop between tests, so the next one hangs (tried). Tasks started here get
/// a preference for the loop instead (`LoopTaskExecutor`): every resumed continuation stays on it.
struct TestLoop: Sendable {
    let loop: EventLoop
    let taskExecutor: LoopTaskExecutor

    /// What a wait was for, when its deadline passed first.
    struct Timeout: Error, CustomStringConvertible {
        let what: String
        var description: String { "timed out waiting for \(what)" }
    }

    struct WrongThread: Error, CustomStringConvertible {
        var description: String { "the process's loop was booted on another thread than this test's" }
    }

    private static let booted: Result<TestLoop, SystemError> = boot()

    private static func boot() -> Result<TestLoop, SystemError> {
        do throws(SystemError) {
            let loop: EventLoop
            if let installed = EventLoop.installed { loop = installed } else { loop = try EventLoop.boot() }
            let taskExecutor = LoopTaskExecutor(executor: loop.executor)
            LoopTasks.preference = taskExecutor  // the tasks the loop's code starts (HTTP request workers) too
            return .success(TestLoop(loop: loop, taskExecutor: taskExecutor))
        } catch {
            return .failure(error)
        }
    }

    /// The loop, booted on this thread if it was not yet; throws if it was booted on another one.
    static func shared() throws -> TestLoop {
        let testLoop = try booted.get()
        guard testLoop.loop.executor.isLoopThread else { throw WrongThread() }
        return testLoop
    }

    // MARK: Tasks

    /// Starts `body` on the loop (it runs once the test drives the loop). Its result lands in
    /// the returned `Outcome`.
    @discardableResult
    func spawn<Value>(_ body: @escaping @Sendable @LoopActor () async -> Value) -> Outcome<Value> {
        let outcome = LoopActor.assumeIsolated { Outcome<Value>() }
        let operation: @Sendable @LoopActor () async -> Void = { outcome.value = await body() }
        Task(executorPreference: taskExecutor, operation: operation)
        return outcome
    }

    /// The value `outcome` holds, once its task has finished; nil while it has not.
    func value<Value>(of outcome: Outcome<Value>) -> Value? {
        LoopActor.assumeIsolated { outcome.value }
    }

    /// Drives the loop until `outcome`'s task has finished, and returns its value.
    func result<Value>(of outcome: Outcome<Value>, _ what: String, timeout: Duration = .seconds(10)) throws -> Value {
        try run(until: what, timeout: timeout) { value(of: outcome) != nil }
        guard let value = value(of: outcome) else { throw Timeout(what: what) }
        return value
    }

    // MARK: Driving

    /// Runs the loop's turns on this thread until `condition` holds; throws `Timeout` once
    /// `timeout` has passed. `condition` is checked after each batch of jobs, before any wait, so
    /// the loop never sleeps on a condition that already holds.
    func run(until what: String, timeout: Duration = .seconds(10), _ condition: () -> Bool) throws {
        let deadline = Instant.now + timeout
        let previous = startDriving()
        defer { stopDriving(previous) }
        while !condition() {
            if loop.executor.hasWork {
                loop.executor.runQueuedJobs()
                continue
            }
            let now = Instant.now
            guard now < deadline else { throw Timeout(what: what) }
            loop.turn(waitingAtMost: deadline.nanoseconds - now.nanoseconds)
        }
    }

    /// Runs turns that never wait until one finds nothing to do: no job queued, no event, no timer
    /// due. Afterwards, whatever the loop could do without the peer (or the clock) has been done,
    /// so a test can assert that something has *not* happened. (Work a blocking-pool thread still
    /// has in hand is not seen: only use it when none is in flight.)
    func settle() throws {
        let previous = startDriving()
        defer { stopDriving(previous) }
        for _ in 0..<100_000 {
            var busy = false
            while loop.executor.hasWork {
                loop.executor.runQueuedJobs()
                busy = true
            }
            if loop.turn(waitingAtMost: 0) > 0 { busy = true }
            if !busy && !loop.executor.hasWork { return }
        }
        throw Timeout(what: "the loop to settle (it keeps finding work)")
    }

    /// Lets `turn` run, with a fresh `now` (stale since the test last drove the loop), and
    /// SIGPIPE ignored as a worker has it: a write to a closed peer fails with EPIPE instead of
    /// killing the test process. Only while driving: the processes other tests spawn inherit the
    /// disposition. Returns the previous one, for `stopDriving`.
    private func startDriving() -> __sighandler_t? {
        loop.running = true
        loop.turnStarted = Instant.now.nanoseconds
        return signal(SIGPIPE, SIG_IGN)
    }

    private func stopDriving(_ previous: __sighandler_t?) {
        loop.running = false
        _ = signal(SIGPIPE, previous)
    }
}

/// Where a task started with `TestLoop.spawn` leaves its result.
@LoopActor
final class Outcome<Value> {
    var value: Value?
}

/// Makes the loop the preferred executor of the tasks a test starts: the runtime then enqueues a
/// resumed continuation (an epoll event, a pool thread's result) here rather than on its global
/// executor, so the task's code never runs off the loop's thread and no job is in flight elsewhere.
/// (In a worker the loop is the global executor itself: `installAsGlobalExecutor`.)
final class LoopTaskExecutor: TaskExecutor {
    let executor: LoopExecutor

    init(executor: LoopExecutor) { self.executor = executor }

    func enqueue(_ job: consuming ExecutorJob) { executor.enqueue(job) }
}

/// Opened by the test, awaited by a handler: lets a test choose the moment a handler goes on.
@LoopActor
final class Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}
