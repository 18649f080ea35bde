import Channel
import Posix
import XCTest

@testable import Supervisor

/// `WorkerTable.restartsByReason`: every replacement counted once, by why it happened; a stop or
/// a scale-down replaces nobody.
final class RestartReasonTests: XCTestCase {
    let start = Instant(nanoseconds: 7_000_000_000)

    /// Two ready workers, pids 10 and 11.
    func servingTable() -> WorkerTable {
        var table = WorkerTable(workers: 2, policy: .init(timeout: .seconds(10), gracefulTimeout: .seconds(30)))
        _ = table.tick(now: start)
        for slot in 0..<2 {
            table.spawned(pid: ProcessID(10 + slot), slot: slot, generation: 1, now: start)
            _ = table.ready(pid: ProcessID(10 + slot), now: start)
        }
        return table
    }

    func testCrashTimeoutReloadRecycleAndMemoryAreEachCounted() {
        var table = servingTable()
        table.heartbeat(pid: 10, stats: WorkerStats(), now: start + .seconds(5))
        _ = table.tick(now: start + .seconds(11))  // 11 silent past the timeout: killed, counted at its reap
        _ = table.reaped(pid: 11, status: .signaled(.kill), now: start + .seconds(11))
        XCTAssertEqual(table.restartsByReason, [.timeout: 1])
        let now = start + .seconds(12)
        _ = table.reaped(pid: 10, status: .signaled(.kill), now: now)
        XCTAssertEqual(table.restartsByReason, [.crash: 1, .timeout: 1])
        table.spawned(pid: 20, slot: 0, generation: 1, now: now)
        table.spawned(pid: 21, slot: 1, generation: 1, now: now)
        _ = table.ready(pid: 20, now: now)
        _ = table.ready(pid: 21, now: now)

        // Memory: the successor first, then the old one retires, counted when it is gone.
        XCTAssertEqual(table.recycle(pid: 20, now: now, reason: .memory), [.spawn(slot: 0, generation: 1)])
        table.spawned(pid: 30, slot: 0, generation: 1, now: now)
        XCTAssertEqual(table.ready(pid: 30, now: now), [.quit(pid: 20, deadline: now + .seconds(30), reason: .memory)])
        _ = table.reaped(pid: 20, status: .exited(code: 0), now: now)
        XCTAssertEqual(table.recycle(pid: 21, now: now), [.spawn(slot: 1, generation: 1)])
        table.spawned(pid: 31, slot: 1, generation: 1, now: now)
        _ = table.ready(pid: 31, now: now)
        _ = table.reaped(pid: 21, status: .exited(code: 0), now: now)
        XCTAssertEqual(table.restartsByReason, [.crash: 1, .timeout: 1, .memory: 1, .recycle: 1])

        _ = table.reload(now: now)
        table.spawned(pid: 40, slot: 0, generation: 2, now: now)
        table.spawned(pid: 41, slot: 1, generation: 2, now: now)
        _ = table.ready(pid: 40, now: now)
        _ = table.ready(pid: 41, now: now)
        _ = table.reaped(pid: 30, status: .exited(code: 0), now: now)
        _ = table.reaped(pid: 31, status: .exited(code: 0), now: now)
        XCTAssertEqual(table.restartsByReason, [.crash: 1, .timeout: 1, .memory: 1, .recycle: 1, .reload: 2])
    }

    func testAStopAndAScaleDownReplaceNobody() throws {
        var table = servingTable()
        let now = start + .seconds(1)
        _ = try XCTUnwrap(table.scale(by: -1, now: now))
        _ = table.reaped(pid: 11, status: .exited(code: 0), now: now)
        _ = table.shutdown(.graceful, now: now)
        _ = table.reaped(pid: 10, status: .exited(code: 0), now: now)
        XCTAssertEqual(table.restartsByReason, [:])
    }
}
