import Posix
import XCTest

@testable import Supervisor

/// `--max-worker-memory`'s rule in `WorkerTable`, with the fake clock of `WorkerTableTests`.
extension WorkerTableTests {
    var limit: UInt64 { 64 << 20 }

    func testAWorkerAboveTheLimitTwoChecksInARowIsReplacedItsSuccessorFirst() throws {
        var table = readyTable(workers: 2)
        let (first, none) = table.memoryChecked([pid(0): 10 << 20, pid(1): 100 << 20], limit: limit, now: at(.seconds(1)))
        XCTAssertNil(first, "one figure above the limit is not yet a row")
        XCTAssertEqual(none, [])
        let (verdict, actions) = table.memoryChecked([pid(0): 10 << 20, pid(1): 101 << 20], limit: limit, now: at(.seconds(2)))
        XCTAssertEqual(verdict?.worker.pid, pid(1))
        XCTAssertEqual(verdict?.uniqueBytes, 101 << 20)
        XCTAssertEqual(actions, [.spawn(slot: 1, generation: 1)], "the successor first; the old one keeps serving")
        table.spawned(pid: 200, slot: 1, generation: 1, now: at(.seconds(2)))
        XCTAssertEqual(table.ready(pid: 200, now: at(.seconds(3))),
                       [.quit(pid: pid(1), deadline: at(.seconds(3)) + graceful, reason: .memory)])
        XCTAssertEqual(try state(table, pid(0)), .ready, "the worker below the limit is untouched")
    }

    func testAWorkerBelowTheLimitOrWithAMissingReadingIsNeverReplaced() {
        var table = readyTable(workers: 1)
        for second in 1...20 {
            // Above, then unreadable, then above: never two figures in a row.
            let samples: [ProcessID: UInt64] = second % 2 == 0 ? [:] : [pid(0): 100 << 20]
            let (verdict, actions) = table.memoryChecked(samples, limit: limit, now: at(.milliseconds(second * 400)))
            XCTAssertNil(verdict)
            XCTAssertEqual(actions, [])
        }
        for second in 1...10 {
            let (verdict, actions) = table.memoryChecked([pid(0): limit], limit: limit, now: at(.milliseconds(8000 + second * 100)))
            XCTAssertNil(verdict, "at the limit is not above it")
            XCTAssertEqual(actions, [])
        }
    }

    func testOneWorkerIsReplacedAtATimeTheLargestFirst() {
        var table = readyTable(workers: 3)
        let over: [ProcessID: UInt64] = [pid(0): 90 << 20, pid(1): 10 << 20, pid(2): 120 << 20]
        _ = table.memoryChecked(over, limit: limit, now: at(.seconds(1)))
        let (verdict, _) = table.memoryChecked(over, limit: limit, now: at(.seconds(2)))
        XCTAssertEqual(verdict?.worker.pid, pid(2), "the largest goes first")
        table.spawned(pid: 300, slot: 2, generation: 1, now: at(.seconds(2)))
        let (meanwhile, none) = table.memoryChecked(over.merging([300: 1 << 20]) { $1 }, limit: limit, now: at(.seconds(3)))
        XCTAssertNil(meanwhile, "slot 0 waits while slot 2 is being replaced")
        XCTAssertEqual(none, [])
        _ = table.ready(pid: 300, now: at(.seconds(3)))
        _ = table.reaped(pid: pid(2), status: .exited(code: 0), now: at(.seconds(4)))
        let (next, actions) = table.memoryChecked([pid(0): 95 << 20, pid(1): 10 << 20, 300: 1 << 20], limit: limit, now: at(.seconds(5)))
        XCTAssertEqual(next?.worker.pid, pid(0), "its strikes were kept: it goes next")
        XCTAssertEqual(actions, [.spawn(slot: 0, generation: 1)])
    }

    func testNoMemoryReplacementDuringAReloadOrAShutdown() {
        var table = readyTable(workers: 1)
        _ = table.reload(now: at(.seconds(1)))
        let over: [ProcessID: UInt64] = [pid(0): 100 << 20]
        _ = table.memoryChecked(over, limit: limit, now: at(.seconds(1)))
        XCTAssertNil(table.memoryChecked(over, limit: limit, now: at(.seconds(2))).0, "the reload replaces it already")
        var stopping = readyTable(workers: 1)
        _ = stopping.shutdown(.graceful, now: at(.seconds(1)))
        _ = stopping.memoryChecked(over, limit: limit, now: at(.seconds(1)))
        XCTAssertEqual(stopping.memoryChecked(over, limit: limit, now: at(.seconds(2))).1, [])
    }
}
