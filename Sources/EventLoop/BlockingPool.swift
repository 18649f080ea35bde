import Posix
import Synchronization

/// A few threads for work that would stall the loop: file `open`/`stat`/`fsync`, CPU-heavy
/// handlers. The loop awaits the result; other connections keep being served meanwhile.
///
/// Threads are started on first use, so they exist only in a worker and only after fork (the
/// master never has one), and a worker that never blocks never has them. A finished job resumes its
/// continuation from the pool thread; in a worker that goes to the loop (the global executor) through
/// its eventfd wakeup.
public final class BlockingPool: Sendable {
    public struct Stopped: Error, CustomStringConvertible {
        public var description: String { "the blocking pool is shut down" }
    }

    private struct State: ~Copyable {
        var jobs: [@Sendable () -> Void] = []
        var started = 0
        var stopping = false
    }

    public let threadCount: Int
    private let state = Mutex(State())
    /// Counts queued jobs; pool threads wait on it.
    private let available = Semaphore()

    public init(threads: Int = 4) {
        threadCount = max(1, threads)
    }

    /// Runs `work` on a pool thread and returns its result (or its error) on the caller's executor.
    public func run<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Result, any Error>) in
            let job: @Sendable () -> Void = {
                do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
            }
            let accepted = state.withLock { state -> Bool in
                guard !state.stopping else { return false }
                state.jobs.append(job)
                return true
            }
            guard accepted else { return continuation.resume(throwing: Stopped()) }
            startThreadIfNeeded()
            available.signal()
        }
    }

    /// Lets the threads finish the queued jobs and exit. Further `run` calls throw `Stopped`.
    public func shutdown() {
        let threads = state.withLock { state -> Int in
            state.stopping = true
            return state.started
        }
        for _ in 0..<threads { available.signal() }
    }

    private func startThreadIfNeeded() {
        let start = state.withLock { state -> Bool in
            // One more thread per submitted job until there are `threadCount`: a worker that never
            // blocks never starts one, and one that does soon has them all.
            guard state.started < threadCount else { return false }
            state.started += 1
            return true
        }
        guard start else { return }
        do throws(SystemError) {
            try DetachedThread.start { self.workLoop() }
        } catch {
            // No thread now (EAGAIN): the job waits for a running one, or for the next submission
            // to try again.
            state.withLock { $0.started -= 1 }
        }
    }

    private func workLoop() {
        while true {
            available.wait()
            let job = state.withLock { state -> (@Sendable () -> Void)? in
                state.jobs.isEmpty ? nil : state.jobs.removeFirst()
            }
            guard let job else {
                if state.withLock({ $0.stopping }) { return }
                continue
            }
            job()
        }
    }
}
