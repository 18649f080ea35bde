import EventLoop
import XCTest

/// Background tasks on the loop: they run, a drain cancels them, and whoever waits for the drain
/// hears when the last one has returned, after its cleanup.
final class BackgroundTasksTests: XCTestCase {
    @LoopActor final class Record {
        var beats = 0
        var sawCancellation = false
        var cleanedUp = false
        var emptied = 0
        var failures: [String] = []
    }

    func testCancelAllCancelsEachTaskAndReportsWhenTheLastHasReturned() throws {
        let testLoop = try TestLoop.shared()
        let (tasks, record) = LoopActor.assumeIsolated { (BackgroundTasks(), Record()) }
        let gate = LoopActor.assumeIsolated { Gate() }
        LoopActor.assumeIsolated {
            tasks.onEmpty = { record.emptied += 1 }
            tasks.start("beating") {
                do {
                    while true {
                        record.beats += 1
                        try await Task.sleep(for: .milliseconds(5))
                    }
                } catch {
                    record.sawCancellation = error is CancellationError
                    await gate.wait()  // cleanup that takes a while: the drain waits for it
                    record.cleanedUp = true
                }
            }
        }
        try testLoop.run(until: "a few beats") { LoopActor.assumeIsolated { record.beats >= 3 } }
        LoopActor.assumeIsolated {
            XCTAssertEqual(tasks.count, 1)
            tasks.cancelAll()
        }
        try testLoop.run(until: "the task to see its cancellation") { LoopActor.assumeIsolated { record.sawCancellation } }
        try testLoop.settle()
        LoopActor.assumeIsolated {
            XCTAssertEqual(tasks.count, 1, "still cleaning up")
            XCTAssertEqual(record.emptied, 0)
            gate.open()
        }
        try testLoop.run(until: "the last task to return") { LoopActor.assumeIsolated { record.emptied == 1 } }
        LoopActor.assumeIsolated {
            XCTAssertTrue(record.cleanedUp)
            XCTAssertEqual(tasks.count, 0)
        }
    }

    /// A task started once the drain has begun starts cancelled; an error other than
    /// cancellation is reported with the task's name.
    func testLateTasksStartCancelledAndFailuresAreReported() throws {
        let testLoop = try TestLoop.shared()
        struct Broken: Error {}
        let (tasks, record) = LoopActor.assumeIsolated { (BackgroundTasks(), Record()) }
        LoopActor.assumeIsolated {
            tasks.onEmpty = { record.emptied += 1 }
            tasks.onFailure = { name, error in record.failures.append("\(name): \(error)") }
            tasks.start("broken") { throw Broken() }
        }
        try testLoop.run(until: "the broken task to end") { LoopActor.assumeIsolated { record.emptied == 1 } }
        LoopActor.assumeIsolated {
            XCTAssertEqual(record.failures, ["broken: Broken()"])
            tasks.cancelAll()
            tasks.start("late") { record.sawCancellation = Task.isCancelled }
        }
        try testLoop.run(until: "the late task to end") { LoopActor.assumeIsolated { record.emptied == 2 } }
        LoopActor.assumeIsolated {
            XCTAssertTrue(record.sawCancellation)
            XCTAssertEqual(record.failures.count, 1, "a cancelled task is no failure")
        }
    }
}
