import Glibc
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
    /// Counts queued jobs; pool threads wait on it. Heap-allocated: a `sem_t` must not move. A POSIX
    /// semaphore is made to be shared between threads, hence `nonisolated(unsafe)`.
    nonisolated(unsafe) private let available: UnsafeMutablePointer<sem_t>

    public init(threads: Int = 4) {
        threadCount = max(1, threads)
        available = .allocate(capacity: 1)
        sem_init(available, 0, 0)
    }

    deinit {
        sem_destroy(available)
        available.deallocate()
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
            sem_post(available)
        }
    }

    /// Lets the threads finish the queued jobs and exit. Further `run` calls throw `Stopped`.
    public func shutdown() {
        let threads = state.withLock { state -> Int in
            state.stopping = true
            return state.started
        }
        for _ in 0..<threads { sem_post(available) }
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
        let box = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            let pool = Unmanaged<BlockingPool>.fromOpaque(context).takeRetainedValue()
            pool.workLoop()
            return nil
        }, box)
        if result == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<BlockingPool>.fromOpaque(box).release()
            state.withLock { $0.started -= 1 }
        }
    }

    private func workLoop() {
        while true {
            while sem_wait(available) != 0 && errno == EINTR {}
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
