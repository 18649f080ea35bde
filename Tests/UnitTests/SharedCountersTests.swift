import Posix
import Glibc
import XCTest

/// The cross-process limit: it holds across real forked processes, and a dead worker's share is
/// cleared.
final class SharedCountersTests: XCTestCase {
    func testLimitHoldsWithinOneProcess() throws {
        let counters = try SharedCounters(seats: 4)
        XCTAssertTrue(counters.tryAcquire(seat: 0, limit: 2))
        XCTAssertTrue(counters.tryAcquire(seat: 1, limit: 2))
        XCTAssertFalse(counters.tryAcquire(seat: 2, limit: 2), "a third unit is over the limit")
        XCTAssertEqual(counters.total, 2)
        counters.release(seat: 0)
        XCTAssertTrue(counters.tryAcquire(seat: 2, limit: 2))
        XCTAssertEqual(counters.count(seat: 2), 1)
    }

    func testClearForgetsADeadWorkersShare() throws {
        let counters = try SharedCounters(seats: 2)
        for _ in 0..<3 { XCTAssertTrue(counters.tryAcquire(seat: 1, limit: 3)) }
        XCTAssertFalse(counters.tryAcquire(seat: 0, limit: 3))
        counters.clear(seat: 1)
        XCTAssertEqual(counters.total, 0)
        XCTAssertTrue(counters.tryAcquire(seat: 0, limit: 3))
    }

    /// Four forked children race to take units from a limit of 10, 1000 attempts each, holding what
    /// they take, and report how many they hold in their exit code. The seats' sum may pass the limit
    /// for an instant while a loser backs out; what is held never does.
    func testLimitHoldsAcrossForkedProcesses() throws {
        let counters = try SharedCounters(seats: 4)
        var children: [pid_t] = []
        for seat in 0..<4 {
            let pid = fork()
            if pid == 0 {
                var held: Int32 = 0
                for _ in 0..<1000 where counters.tryAcquire(seat: seat, limit: 10) { held += 1 }
                _exit(held)
            }
            XCTAssertGreaterThan(pid, 0)
            children.append(pid)
        }
        var held: Int32 = 0
        for child in children {
            var status: Int32 = 0
            waitpid(child, &status, 0)
            held += (status >> 8) & 0xff
        }
        XCTAssertLessThanOrEqual(held, 10, "more units held than the limit")
        XCTAssertGreaterThan(held, 0)
        XCTAssertEqual(Int64(held), counters.total, "the children's seats are visible to the parent")
    }
}
