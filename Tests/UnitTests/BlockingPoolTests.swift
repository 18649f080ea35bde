import EventLoop
import Glibc
import Synchronization
import XCTest

/// The pool for blocking work: results and errors come back, jobs run in parallel up to the thread
/// count and never beyond it, and a stopped pool refuses work.
final class BlockingPoolTests: XCTestCase {
    struct Boom: Error, Equatable {}

    /// Atomics shared by the jobs (an `Atomic` cannot be captured by itself: it is not copyable).
    final class Counters: Sendable {
        let first = Atomic<Int>(0)
        let second = Atomic<Int>(0)
    }

    func testReturnsResultsAndErrors() async throws {
        let pool = BlockingPool(threads: 2)
        defer { pool.shutdown() }
        let value = try await pool.run { 6 * 7 }
        XCTAssertEqual(value, 42)
        do {
            _ = try await pool.run { () throws -> Int in throw Boom() }
            XCTFail("expected the job's error")
        } catch {
            XCTAssertEqual(error as? Boom, Boom())
        }
    }

    /// Four jobs that each wait (up to 10 s) until all four are running at once: only a pool that
    /// really runs them in parallel lets every one of them see the others.
    func testJobsRunInParallelUpToTheThreadCount() async throws {
        let pool = BlockingPool(threads: 4)
        defer { pool.shutdown() }
        let counters = Counters()
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await pool.run {
                        counters.first.add(1, ordering: .sequentiallyConsistent)
                        for _ in 0..<10_000 {
                            if counters.first.load(ordering: .sequentiallyConsistent) == 4 { return true }
                            usleep(1000)
                        }
                        return false
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(results, [true, true, true, true])
    }

    func testNeverMoreThreadsThanConfigured() async throws {
        let pool = BlockingPool(threads: 2)
        defer { pool.shutdown() }
        let counters = Counters()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await pool.run {
                        let now = counters.first.add(1, ordering: .sequentiallyConsistent).newValue
                        _ = counters.second.max(now, ordering: .sequentiallyConsistent)
                        usleep(20_000)
                        counters.first.subtract(1, ordering: .sequentiallyConsistent)
                    }
                }
            }
            try await group.waitForAll()
        }
        // At most two (parallelism itself is the previous test's business).
        XCTAssertLessThanOrEqual(counters.second.load(ordering: .sequentiallyConsistent), 2)
        XCTAssertGreaterThanOrEqual(counters.second.load(ordering: .sequentiallyConsistent), 1)
    }

    func testAStoppedPoolRefusesWork() async {
        let pool = BlockingPool(threads: 1)
        pool.shutdown()
        do {
            _ = try await pool.run { 1 }
            XCTFail("a stopped pool must refuse work")
        } catch {
            XCTAssertTrue(error is BlockingPool.Stopped)
        }
    }
}
