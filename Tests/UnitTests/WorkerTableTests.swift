import Channel
import Posix
import Settings
import XCTest

@testable import Supervisor

/// `WorkerTable` driven with a fake clock: every rule of the master (spawning, timeouts, back-off,
/// readiness-gated reload, scaling, shutdown escalation) without a process or a real clock.
final class WorkerTableTests: XCTestCase {
    typealias Table = WorkerTable
    typealias Action = WorkerTable.Action

    /// An arbitrary, non-zero start so that `t0 + negative` bugs would not hide at zero.
    let t0 = Instant(nanoseconds: 1_000_000_000_000)
    let timeout = Duration.seconds(10)
    let graceful = Duration.seconds(30)

    func at(_ offset: Duration) -> Instant { t0 + offset }

    func makeTable(workers: Int) -> Table {
        Table(workers: workers, policy: .init(timeout: timeout, gracefulTimeout: graceful))
    }

    /// A table whose initial spawns have been carried out: slot `n` runs pid `100 + n`, booting.
    func bootedTable(workers: Int) -> Table {
        var table = makeTable(workers: workers)
        let actions = table.tick(now: t0)
        XCTAssertEqual(actions, (0..<workers).map { .spawn(slot: $0, generation: 1) })
        for slot in 0..<workers {
            table.spawned(pid: pid(slot), slot: slot, generation: 1, now: t0)
        }
        return table
    }

    /// A table whose workers have all reported ready at `t0`.
    func readyTable(workers: Int) -> Table {
        var table = bootedTable(workers: workers)
        for slot in 0..<workers {
            XCTAssertEqual(table.ready(pid: pid(slot), now: t0), [])
        }
        return table
    }

    func pid(_ slot: Int) -> ProcessID { ProcessID(100 + slot) }

    func kills(_ actions: [Action]) -> [Action] {
        actions.filter { if case .kill = $0 { true } else { false } }
    }

    func spawns(_ actions: [Action]) -> [Action] {
        actions.filter { if case .spawn = $0 { true } else { false } }
    }

    func state(_ table: Table, _ pid: ProcessID, file: StaticString = #filePath, line: UInt = #line) throws -> Table.State {
        try XCTUnwrap(table.workers[pid], "no worker \(pid)", file: file, line: line).state
    }

    // MARK: Spawning and readiness

    func testInitialTickSpawnsOnePerSlotAndNotAgainUntilSpawnedIsReported() {
        var table = makeTable(workers: 3)
        XCTAssertEqual(table.desired, 3)
        XCTAssertEqual(table.tick(now: t0), [
            .spawn(slot: 0, generation: 1), .spawn(slot: 1, generation: 1), .spawn(slot: 2, generation: 1),
        ])
        // The master has not reported the forks yet: asking again would fork twice.
        XCTAssertEqual(table.tick(now: at(.milliseconds(1))), [])
        XCTAssertEqual(table.tick(now: at(.seconds(3600))), [])

        table.spawned(pid: 100, slot: 0, generation: 1, now: t0)
        XCTAssertEqual(table.tick(now: at(.seconds(1))), [], "slot 0 is served; slots 1 and 2 are still being forked")
        XCTAssertEqual(table.workers.count, 1)
        XCTAssertEqual(table.workers[100]?.state, .booting)
        XCTAssertEqual(table.workers[100]?.slot, 0)
        XCTAssertEqual(table.workers[100]?.generation, 1)
        XCTAssertEqual(table.servingCount, 1)
    }

    func testReadyMarksTheWorkerReady() throws {
        var table = bootedTable(workers: 2)
        XCTAssertFalse(table.everReady)
        XCTAssertEqual(table.ready(pid: 101, now: at(.seconds(2))), [])
        let worker = try XCTUnwrap(table.workers[101])
        XCTAssertEqual(worker.state, .ready)
        XCTAssertEqual(worker.readyAt, at(.seconds(2)))
        XCTAssertEqual(worker.lastSeen, at(.seconds(2)))
        XCTAssertTrue(table.everReady)
        XCTAssertEqual(try state(table, 100), .booting, "only the worker that reported is ready")
        XCTAssertEqual(table.ready(pid: 999, now: at(.seconds(2))), [], "an unknown pid is ignored")
    }

    func testSpawnFailureRetriesAtOnceThenBacksOff() {
        var table = makeTable(workers: 1)
        XCTAssertEqual(table.tick(now: t0), [.spawn(slot: 0, generation: 1)])
        XCTAssertEqual(table.spawnFailed(slot: 0, now: t0), [.spawn(slot: 0, generation: 1)])
        XCTAssertEqual(table.spawnFailed(slot: 0, now: t0), [], "a second failure in a row waits")
        XCTAssertEqual(table.nextDeadline, at(.seconds(1)))
        XCTAssertEqual(table.tick(now: at(.seconds(1))), [.spawn(slot: 0, generation: 1)])
    }

    // MARK: Timeouts

    func testSilentWorkerIsKilledExactlyAtLastSeenPlusTimeout() throws {
        var table = readyTable(workers: 1)
        table.heartbeat(pid: 100, stats: WorkerStats(), now: at(.seconds(5)))
        XCTAssertEqual(table.workers[100]?.lastSeen, at(.seconds(5)))
        XCTAssertEqual(table.nextDeadline, at(.seconds(15)))

        XCTAssertEqual(table.tick(now: at(.seconds(15)) + .nanoseconds(-1)), [])
        XCTAssertEqual(try state(table, 100), .ready)
        XCTAssertEqual(kills(table.tick(now: at(.seconds(15)))), [.kill(pid: 100, reason: .timeout)])
        XCTAssertEqual(try state(table, 100), .killed(.timeout))
        XCTAssertEqual(kills(table.tick(now: at(.seconds(16)))), [], "a killed worker is not killed again")
    }

    func testHeartbeatsKeepAWorkerAlive() {
        var table = readyTable(workers: 1)
        for second in stride(from: 5, through: 100, by: 5) {
            table.heartbeat(pid: 100, stats: WorkerStats(), now: at(.seconds(second)))
            XCTAssertEqual(table.tick(now: at(.seconds(second))), [])
        }
        XCTAssertEqual(kills(table.tick(now: at(.seconds(110)))), [.kill(pid: 100, reason: .timeout)])
    }

    func testWorkerThatNeverReportsReadyIsKilledForBootTimeout() throws {
        var table = bootedTable(workers: 1)
        XCTAssertEqual(table.tick(now: at(timeout) + .nanoseconds(-1)), [])
        XCTAssertEqual(kills(table.tick(now: at(timeout))), [.kill(pid: 100, reason: .bootTimeout)])
        XCTAssertEqual(try state(table, 100), .killed(.bootTimeout))
    }

    func testReapingAKilledWorkerReportsTheKillAndReplacesIt() throws {
        var table = readyTable(workers: 2)
        table.heartbeat(pid: 101, stats: WorkerStats(), now: at(.seconds(9)))
        let killActions = table.tick(now: at(.seconds(10)))
        XCTAssertEqual(kills(killActions), [.kill(pid: 100, reason: .timeout)])
        // The replacement may be asked for at once (a killed worker no longer serves its slot) or
        // once it is reaped; either way, exactly one.
        var replacements = spawns(killActions)
        if !replacements.isEmpty { table.spawned(pid: 200, slot: 0, generation: 1, now: at(.seconds(10))) }

        let (report, actions) = table.reaped(pid: 100, status: .signaled(.kill), now: at(.seconds(10)))
        let exit = try XCTUnwrap(report)
        XCTAssertEqual(exit.cause, .killed(.timeout))
        XCTAssertEqual(exit.status, .signaled(.kill))
        XCTAssertEqual(exit.worker.pid, 100)
        XCTAssertEqual(exit.worker.slot, 0)
        XCTAssertEqual(table.restarts, 1)
        XCTAssertEqual(kills(actions), [])
        replacements += spawns(actions)
        XCTAssertEqual(replacements, [.spawn(slot: 0, generation: 1)])
        XCTAssertNil(table.workers[100])
        XCTAssertEqual(table.workers[101]?.state, .ready, "the other slot is untouched")
    }

    func testReapingAnUnknownPidReportsNothing() {
        var table = readyTable(workers: 1)
        let (report, actions) = table.reaped(pid: 4242, status: .exited(code: 0), now: t0)
        XCTAssertNil(report)
        XCTAssertEqual(actions, [])
        XCTAssertEqual(table.restarts, 0)
    }

    // MARK: Crash loops

    func testRepeatedQuickDeathsBackOffExponentiallyUpToTheCap() throws {
        var table = bootedTable(workers: 1)
        // The first quick death is replaced at once; then 1s, 2s, 4s, … capped at 30s.
        let expected: [Duration?] = [nil, .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30), .seconds(30)]
        var now = t0
        var pid = pid(0)
        for (index, delay) in expected.enumerated() {
            let streak = index + 1
            // Alternate "never got ready" with "ready, but died within stableAfter".
            if index.isMultiple(of: 2) {
                XCTAssertEqual(table.ready(pid: pid, now: now), [])
                now = now + .seconds(4)
            }
            let (report, actions) = table.reaped(pid: pid, status: .exited(code: 1), now: now)
            let exit = try XCTUnwrap(report)
            XCTAssertEqual(exit.cause, .crashed, "death \(streak)")
            XCTAssertEqual(exit.crashStreak, streak, "death \(streak)")
            XCTAssertEqual(exit.respawnDelay, delay, "death \(streak)")
            XCTAssertEqual(table.restarts, streak)
            if let delay {
                XCTAssertEqual(actions, [], "death \(streak): no spawn before the back-off ends")
                XCTAssertEqual(table.crashLoopingSlots, 1)
                XCTAssertEqual(table.nextDeadline, now + delay)
                XCTAssertEqual(table.tick(now: now + delay + .nanoseconds(-1)), [], "death \(streak)")
                now = now + delay
                XCTAssertEqual(table.tick(now: now), [.spawn(slot: 0, generation: 1)], "death \(streak)")
            } else {
                XCTAssertEqual(actions, [.spawn(slot: 0, generation: 1)], "death \(streak): first death respawns at once")
            }
            pid += 1
            table.spawned(pid: pid, slot: 0, generation: 1, now: now)
            XCTAssertEqual(table.crashLoopingSlots, 0)
        }
    }

    func testAWorkerThatWasReadyAndLivedStableAfterResetsTheStreak() throws {
        var table = bootedTable(workers: 1)
        var now = t0
        var pid = pid(0)
        // Three quick deaths: streak 3, the last one waited 2s.
        for _ in 0..<3 {
            now = now + .seconds(1)
            let (report, _) = table.reaped(pid: pid, status: .signaled(.kill), now: now)
            if let delay = try XCTUnwrap(report).respawnDelay {
                now = now + delay
                XCTAssertEqual(table.tick(now: now), [.spawn(slot: 0, generation: 1)])
            }
            pid += 1
            table.spawned(pid: pid, slot: 0, generation: 1, now: now)
        }
        XCTAssertEqual(now, at(.seconds(6)))

        // Ready, and dies exactly stableAfter (5s) after it was forked: that is not a quick death.
        let spawnedAt = now
        XCTAssertEqual(table.ready(pid: pid, now: spawnedAt + .seconds(1)), [])
        let (report, actions) = table.reaped(pid: pid, status: .signaled(.kill), now: spawnedAt + .seconds(5))
        let exit = try XCTUnwrap(report)
        XCTAssertEqual(exit.cause, .crashed)
        XCTAssertEqual(exit.crashStreak, 0)
        XCTAssertNil(exit.respawnDelay)
        XCTAssertEqual(actions, [.spawn(slot: 0, generation: 1)])

        // The next quick death starts a new streak at 1, replaced at once.
        now = spawnedAt + .seconds(5)
        pid += 1
        table.spawned(pid: pid, slot: 0, generation: 1, now: now)
        let (again, againActions) = table.reaped(pid: pid, status: .signaled(.kill), now: now + .seconds(1))
        XCTAssertEqual(try XCTUnwrap(again).crashStreak, 1)
        XCTAssertNil(try XCTUnwrap(again).respawnDelay)
        XCTAssertEqual(againActions, [.spawn(slot: 0, generation: 1)])
    }

    func testLongLivedWorkerThatNeverGotReadyIsStillAQuickDeath() throws {
        var table = bootedTable(workers: 1)
        _ = table.reaped(pid: 100, status: .exited(code: 1), now: at(.seconds(1)))
        table.spawned(pid: 101, slot: 0, generation: 1, now: at(.seconds(1)))
        table.heartbeat(pid: 101, stats: WorkerStats(), now: at(.seconds(8)))
        let (report, actions) = table.reaped(pid: 101, status: .exited(code: 1), now: at(.seconds(9)))
        XCTAssertEqual(try XCTUnwrap(report).crashStreak, 2)
        XCTAssertEqual(try XCTUnwrap(report).respawnDelay, .seconds(1))
        XCTAssertEqual(actions, [])
    }

    func testReadyWorkerDyingJustBeforeStableAfterIsAQuickDeath() throws {
        var table = bootedTable(workers: 1)
        _ = table.reaped(pid: 100, status: .exited(code: 1), now: at(.seconds(1)))
        table.spawned(pid: 101, slot: 0, generation: 1, now: at(.seconds(1)))
        XCTAssertEqual(table.ready(pid: 101, now: at(.seconds(1))), [])
        let (report, _) = table.reaped(pid: 101, status: .exited(code: 1), now: at(.seconds(6)) + .nanoseconds(-1))
        XCTAssertEqual(try XCTUnwrap(report).crashStreak, 2)
        XCTAssertEqual(try XCTUnwrap(report).respawnDelay, .seconds(1))
    }

    // MARK: Boot failure

    func testBootFailureBeforeAnyWorkerWasReadyStopsTheMasterWithCode1() throws {
        var table = bootedTable(workers: 3)
        let now = at(.seconds(1))
        let (report, actions) = table.reaped(pid: 101, status: .exited(code: WorkerExitCode.bootFailure), now: now)
        let exit = try XCTUnwrap(report)
        XCTAssertEqual(exit.cause, .bootFailure)
        XCTAssertNil(exit.respawnDelay)
        XCTAssertEqual(table.phase, .stopping(.immediate, killAt: now, exitCode: 1))
        XCTAssertEqual(actions, [.kill(pid: 100, reason: .immediate), .kill(pid: 102, reason: .immediate)])

        XCTAssertEqual(table.tick(now: at(.seconds(2))), [], "no spawn, no second kill")
        XCTAssertEqual(table.reload(now: at(.seconds(2))), [])
        XCTAssertNil(table.scale(by: 1, now: at(.seconds(2))))

        let (first, firstActions) = table.reaped(pid: 100, status: .signaled(.kill), now: at(.seconds(2)))
        XCTAssertEqual(try XCTUnwrap(first).cause, .killed(.immediate))
        XCTAssertEqual(firstActions, [])
        let (last, lastActions) = table.reaped(pid: 102, status: .signaled(.kill), now: at(.seconds(2)))
        XCTAssertEqual(try XCTUnwrap(last).cause, .killed(.immediate))
        XCTAssertEqual(lastActions, [.exit(code: 1)])
    }

    func testBootFailureOfTheOnlyWorkerExitsAtOnce() {
        var table = bootedTable(workers: 1)
        let (_, actions) = table.reaped(pid: 100, status: .exited(code: WorkerExitCode.bootFailure), now: at(.seconds(1)))
        XCTAssertEqual(actions, [.exit(code: 1)])
    }

    func testStopSignalAfterBootFailureKeepsExitCode1() {
        var table = bootedTable(workers: 2)
        _ = table.reaped(pid: 100, status: .exited(code: WorkerExitCode.bootFailure), now: at(.seconds(1)))
        _ = table.shutdown(.graceful, now: at(.seconds(2)))
        guard case let .stopping(_, _, code) = table.phase else { return XCTFail("not stopping: \(table.phase)") }
        XCTAssertEqual(code, 1)
        let (_, actions) = table.reaped(pid: 101, status: .signaled(.kill), now: at(.seconds(2)))
        XCTAssertEqual(actions, [.exit(code: 1)])
    }

    func testOtherExitCodesBeforeReadyAreCrashesNotBootFailures() throws {
        var table = bootedTable(workers: 2)
        let (report, actions) = table.reaped(pid: 100, status: .exited(code: 1), now: at(.seconds(1)))
        XCTAssertEqual(try XCTUnwrap(report).cause, .crashed)
        XCTAssertEqual(table.phase, .serving)
        XCTAssertEqual(actions, [.spawn(slot: 0, generation: 1)])
    }

    func testBootFailureAfterAWorkerWasReadyIsTreatedAsACrash() throws {
        var table = bootedTable(workers: 2)
        XCTAssertEqual(table.ready(pid: 100, now: at(.seconds(1))), [])
        let (report, actions) = table.reaped(pid: 101, status: .exited(code: WorkerExitCode.bootFailure), now: at(.seconds(2)))
        let exit = try XCTUnwrap(report)
        XCTAssertEqual(exit.cause, .bootFailure)
        XCTAssertEqual(exit.crashStreak, 1)
        XCTAssertEqual(table.phase, .serving)
        XCTAssertEqual(table.restarts, 1)
        XCTAssertEqual(actions, [.spawn(slot: 1, generation: 1)])
        XCTAssertEqual(table.workers[100]?.state, .ready)
    }

    // MARK: Reload

    func testReloadReplacesEachOldWorkerOnlyOnceItsSuccessorIsReady() throws {
        var table = readyTable(workers: 2)
        let now = at(.seconds(1))
        XCTAssertEqual(table.reload(now: now), [.spawn(slot: 0, generation: 2), .spawn(slot: 1, generation: 2)])
        XCTAssertEqual(table.generation, 2)
        table.spawned(pid: 200, slot: 0, generation: 2, now: now)
        table.spawned(pid: 201, slot: 1, generation: 2, now: now)
        XCTAssertEqual(table.tick(now: at(.seconds(2))), [], "nobody quits before a successor is ready")
        XCTAssertEqual(try state(table, 100), .ready)
        XCTAssertEqual(try state(table, 101), .ready)

        let readyAt = at(.seconds(3))
        XCTAssertEqual(table.ready(pid: 201, now: readyAt), [.quit(pid: 101, deadline: readyAt + graceful, reason: .reload)])
        XCTAssertEqual(try state(table, 101), .retiring(deadline: readyAt + graceful))
        XCTAssertEqual(try state(table, 100), .ready, "slot 0's successor is not ready yet")
        XCTAssertEqual(table.tick(now: at(.seconds(4))), [], "the quit is sent once")

        let (report, actions) = table.reaped(pid: 101, status: .exited(code: 0), now: at(.seconds(5)))
        XCTAssertEqual(try XCTUnwrap(report).cause, .retired)
        XCTAssertNil(try XCTUnwrap(report).respawnDelay)
        XCTAssertEqual(actions, [], "the slot is served by its successor")
        XCTAssertEqual(table.restarts, 0)

        XCTAssertEqual(table.ready(pid: 200, now: at(.seconds(6))), [.quit(pid: 100, deadline: at(.seconds(6)) + graceful, reason: .reload)])
    }

    func testReloadWithFewerWorkersSpawnsOnlyTheRemainingSlotsAndRetiresTheRest() throws {
        var table = readyTable(workers: 3)
        let now = at(.seconds(1))
        let actions = table.reload(now: now, workers: 1)
        XCTAssertEqual(spawns(actions), [.spawn(slot: 0, generation: 2)], "no worker is started for a slot about to go")
        XCTAssertEqual(actions.filter { if case .quit = $0 { true } else { false } },
                       [.quit(pid: 101, deadline: now + graceful, reason: .scaleDown), .quit(pid: 102, deadline: now + graceful, reason: .scaleDown)])
        XCTAssertEqual(table.desired, 1)
        table.spawned(pid: 200, slot: 0, generation: 2, now: now)
        XCTAssertFalse(table.isSettled)
        XCTAssertEqual(table.ready(pid: 200, now: at(.seconds(2))), [.quit(pid: 100, deadline: at(.seconds(2)) + graceful, reason: .reload)])
        XCTAssertTrue(table.isSettled, "one ready worker of generation 2 and nothing older serving")
    }

    func testReloadWithMoreWorkersSpawnsEverySlotOfTheNewGenerationOnce() {
        var table = readyTable(workers: 1)
        XCTAssertEqual(table.reload(now: at(.seconds(1)), workers: 3),
                       [.spawn(slot: 0, generation: 2), .spawn(slot: 1, generation: 2), .spawn(slot: 2, generation: 2)])
    }

    func testRecycledWorkerServesUntilItsSuccessorIsReadyThenRetires() throws {
        var table = readyTable(workers: 2)
        XCTAssertTrue(table.isSettled)
        let now = at(.seconds(1))
        XCTAssertEqual(table.recycle(pid: 101, now: now), [.spawn(slot: 1, generation: 1)])
        XCTAssertEqual(table.recycle(pid: 101, now: now), [], "asking twice changes nothing")
        XCTAssertFalse(table.isSettled)
        table.spawned(pid: 300, slot: 1, generation: 1, now: now)
        XCTAssertEqual(table.tick(now: at(.seconds(2))), [])
        XCTAssertEqual(try state(table, 101), .ready, "still serving: its successor is not ready")
        XCTAssertEqual(table.ready(pid: 300, now: at(.seconds(3))), [.quit(pid: 101, deadline: at(.seconds(3)) + graceful, reason: .recycle)])
        XCTAssertTrue(table.isSettled)
        let (report, actions) = table.reaped(pid: 101, status: .exited(code: 0), now: at(.seconds(4)))
        XCTAssertEqual(try XCTUnwrap(report).cause, .retired)
        XCTAssertEqual(actions, [])
        XCTAssertEqual(table.restarts, 0, "a recycle is not a restart")
    }

    func testRecycleIsIgnoredWhileShuttingDown() {
        var table = readyTable(workers: 1)
        _ = table.shutdown(.graceful, now: at(.seconds(1)))
        XCTAssertEqual(table.recycle(pid: 100, now: at(.seconds(1))), [])
    }

    func testPolicyChangesApplyToTheNextDeadline() throws {
        var table = readyTable(workers: 1)
        table.policy.timeout = .seconds(2)
        XCTAssertEqual(table.nextDeadline, t0 + .seconds(2))
        XCTAssertEqual(kills(table.tick(now: at(.seconds(2)))), [.kill(pid: 100, reason: .timeout)])
    }

    func testRetiringWorkerThatOverstaysIsKilled() throws {
        var table = readyTable(workers: 1)
        _ = table.reload(now: t0)
        table.spawned(pid: 200, slot: 0, generation: 2, now: t0)
        XCTAssertEqual(table.ready(pid: 200, now: t0), [.quit(pid: 100, deadline: t0 + graceful, reason: .reload)])
        let killAt = t0 + graceful + table.policy.cutMargin
        table.heartbeat(pid: 200, stats: WorkerStats(), now: killAt)
        XCTAssertEqual(table.tick(now: t0 + graceful), [], "the worker cuts its own connections at its deadline")
        XCTAssertEqual(table.nextDeadline, killAt)
        XCTAssertEqual(table.tick(now: killAt + .nanoseconds(-1)), [])
        XCTAssertEqual(table.tick(now: killAt), [.kill(pid: 100, reason: .gracefulTimeout)])
        let (report, actions) = table.reaped(pid: 100, status: .signaled(.kill), now: killAt)
        XCTAssertEqual(try XCTUnwrap(report).cause, .killed(.gracefulTimeout))
        XCTAssertEqual(actions, [], "an old-generation worker is not replaced")
    }

    func testNewWorkerDyingBeforeReadyLeavesTheOldOneServing() throws {
        var table = readyTable(workers: 1)
        _ = table.reload(now: at(.seconds(1)))
        table.spawned(pid: 200, slot: 0, generation: 2, now: at(.seconds(1)))
        table.heartbeat(pid: 100, stats: WorkerStats(), now: at(.seconds(2)))

        let (report, actions) = table.reaped(pid: 200, status: .exited(code: WorkerExitCode.bootFailure), now: at(.seconds(2)))
        XCTAssertEqual(try XCTUnwrap(report).cause, .bootFailure)
        XCTAssertEqual(table.phase, .serving, "a worker was ready before: a bad reload does not stop the server")
        XCTAssertEqual(actions, [.spawn(slot: 0, generation: 2)], "the new generation is tried again, the old one is not asked to quit")
        XCTAssertEqual(try state(table, 100), .ready)
        XCTAssertEqual(table.servingCount, 1)
        XCTAssertEqual(table.tick(now: at(.seconds(3))), [])
        XCTAssertEqual(try state(table, 100), .ready)
    }

    // MARK: Scaling

    func testScaleUpSpawnsTheNextSlot() {
        var table = readyTable(workers: 2)
        XCTAssertEqual(table.scale(by: 1, now: at(.seconds(1))), [.spawn(slot: 2, generation: 1)])
        XCTAssertEqual(table.desired, 3)
    }

    func testScaleDownQuitsTheHighestSlotsWorker() throws {
        var table = readyTable(workers: 3)
        let now = at(.seconds(1))
        XCTAssertEqual(table.scale(by: -1, now: now), [.quit(pid: 102, deadline: now + graceful, reason: .scaleDown)])
        XCTAssertEqual(table.desired, 2)
        XCTAssertEqual(table.servingCount, 2)
        XCTAssertEqual(try state(table, 100), .ready)
        XCTAssertEqual(try state(table, 101), .ready)

        let (report, actions) = table.reaped(pid: 102, status: .exited(code: 0), now: at(.seconds(2)))
        XCTAssertEqual(try XCTUnwrap(report).cause, .retired)
        XCTAssertEqual(actions, [], "a removed slot is not refilled")
        XCTAssertEqual(table.restarts, 0)
    }

    func testScaleBelowOneWorkerIsRefused() {
        var table = readyTable(workers: 1)
        XCTAssertNil(table.scale(by: -1, now: t0))
        XCTAssertEqual(table.desired, 1)
        var two = readyTable(workers: 2)
        XCTAssertNil(two.scale(by: -2, now: t0))
        XCTAssertEqual(two.desired, 2)
        XCTAssertEqual(two.servingCount, 2)
    }

    // MARK: Shutdown

    func testGracefulShutdownQuitsEveryWorkerThenKillsAtTheDeadlineThenExits() throws {
        var table = readyTable(workers: 3)
        let now = at(.seconds(1))
        let deadline = now + graceful
        XCTAssertEqual(table.shutdown(.graceful, now: now), [
            .quit(pid: 100, deadline: deadline, reason: .shutdown),
            .quit(pid: 101, deadline: deadline, reason: .shutdown),
            .quit(pid: 102, deadline: deadline, reason: .shutdown),
        ])
        // The workers drain until `deadline`; SIGKILL waits a margin beyond it for their own cut.
        let killAt = deadline + table.policy.cutMargin
        XCTAssertEqual(table.phase, .stopping(.graceful, killAt: killAt, exitCode: 0))
        XCTAssertEqual(table.nextDeadline, killAt)

        // A worker that leaves in time is retired, and not replaced.
        let (retired, retiredActions) = table.reaped(pid: 100, status: .exited(code: 0), now: at(.seconds(5)))
        XCTAssertEqual(try XCTUnwrap(retired).cause, .retired)
        XCTAssertEqual(retiredActions, [])
        // Neither is a worker that crashes while draining.
        let (crashed, crashedActions) = table.reaped(pid: 101, status: .signaled(.kill), now: at(.seconds(6)))
        XCTAssertEqual(try XCTUnwrap(crashed).cause, .retired)
        XCTAssertEqual(crashedActions, [])
        XCTAssertEqual(table.restarts, 0)

        // No heartbeat timeout and no spawn while stopping: only the deadline matters.
        XCTAssertEqual(table.tick(now: deadline), [])
        XCTAssertEqual(table.tick(now: killAt + .nanoseconds(-1)), [])
        XCTAssertEqual(table.tick(now: killAt), [.kill(pid: 102, reason: .gracefulTimeout)])
        XCTAssertEqual(table.tick(now: killAt + .seconds(1)), [], "killed once")

        let (killed, lastActions) = table.reaped(pid: 102, status: .signaled(.kill), now: killAt + .seconds(1))
        XCTAssertEqual(try XCTUnwrap(killed).cause, .killed(.gracefulTimeout))
        XCTAssertEqual(lastActions, [.exit(code: 0)])
        XCTAssertEqual(table.restarts, 0)
    }

    func testShutdownWithNoWorkersExitsAtOnce() {
        var table = makeTable(workers: 2)
        XCTAssertEqual(table.shutdown(.graceful, now: t0), [.exit(code: 0)])
    }

    func testShutdownStopsPendingRespawnsAndReloads() {
        var table = bootedTable(workers: 1)
        _ = table.reaped(pid: 100, status: .exited(code: 1), now: at(.seconds(1)))
        table.spawned(pid: 101, slot: 0, generation: 1, now: at(.seconds(1)))
        _ = table.reaped(pid: 101, status: .exited(code: 1), now: at(.seconds(1)))   // back-off: 1s
        XCTAssertEqual(table.shutdown(.graceful, now: at(.seconds(1))), [.exit(code: 0)])
        XCTAssertEqual(spawns(table.tick(now: at(.seconds(5)))), [], "no spawn once stopping")
        XCTAssertEqual(table.reload(now: at(.seconds(5))), [])
    }

    func testShutdownDoesNotRepeatAQuitToAWorkerAlreadyRetiringEarlier() {
        var table = readyTable(workers: 2)
        let quitAt = at(.seconds(1))
        XCTAssertEqual(table.scale(by: -1, now: quitAt), [.quit(pid: 101, deadline: quitAt + graceful, reason: .scaleDown)])
        let now = at(.seconds(2))
        XCTAssertEqual(table.shutdown(.graceful, now: now), [.quit(pid: 100, deadline: now + graceful, reason: .shutdown)])
    }

    func testSecondGracefulShutdownEscalatesToImmediate() {
        var table = readyTable(workers: 2)
        _ = table.shutdown(.graceful, now: at(.seconds(1)))
        let now = at(.seconds(2))
        XCTAssertEqual(table.shutdown(.graceful, now: now), [.kill(pid: 100, reason: .immediate), .kill(pid: 101, reason: .immediate)])
        XCTAssertEqual(table.phase, .stopping(.immediate, killAt: now, exitCode: 0))
        let (report, _) = table.reaped(pid: 100, status: .signaled(.kill), now: now)
        XCTAssertEqual(report?.cause, .killed(.immediate))
        XCTAssertEqual(table.reaped(pid: 101, status: .signaled(.kill), now: now).1, [.exit(code: 0)])
    }

    func testFastShutdownAsksForAnImmediateQuitAndKillsAfterTheFastTimeout() {
        var table = readyTable(workers: 2)
        let now = at(.seconds(1))
        XCTAssertEqual(table.shutdown(.fast, now: now), [
            .quit(pid: 100, deadline: now, reason: .shutdown),
            .quit(pid: 101, deadline: now, reason: .shutdown),
        ])
        let killAt = now + table.policy.fastTimeout
        XCTAssertEqual(table.policy.fastTimeout, .seconds(1))
        XCTAssertEqual(table.phase, .stopping(.fast, killAt: killAt, exitCode: 0))
        XCTAssertEqual(table.tick(now: killAt + .nanoseconds(-1)), [])
        let kills = table.tick(now: killAt)
        XCTAssertEqual(kills.count, 2)
        XCTAssertEqual(Set(kills.compactMap { action -> ProcessID? in
            if case let .kill(pid, reason) = action, reason != .immediate { return pid }
            return nil
        }), [100, 101])
    }

    func testAStopSignalAfterAFastShutdownEscalatesToImmediate() {
        var table = readyTable(workers: 1)
        _ = table.shutdown(.fast, now: at(.seconds(1)))
        XCTAssertEqual(table.shutdown(.graceful, now: at(.seconds(1))), [.kill(pid: 100, reason: .immediate)])
    }

    // MARK: Counters

    func testDepartedCountersAccumulateTheLastStatsOfReapedWorkers() {
        var table = readyTable(workers: 2)
        table.heartbeat(pid: 100, stats: WorkerStats(requests: 10, connectionsAccepted: 2), now: at(.seconds(1)))
        table.heartbeat(pid: 100, stats: WorkerStats(requests: 15, connectionsAccepted: 3), now: at(.seconds(2)))
        table.heartbeat(pid: 101, stats: WorkerStats(requests: 7, connectionsAccepted: 1), now: at(.seconds(2)))
        XCTAssertEqual(table.workers[100]?.stats.requests, 15, "stats are cumulative: the latest replaces")
        XCTAssertEqual(table.departedRequests, 0)

        _ = table.reaped(pid: 100, status: .exited(code: 1), now: at(.seconds(3)))
        XCTAssertEqual(table.departedRequests, 15)
        XCTAssertEqual(table.departedAccepted, 3)
        _ = table.reaped(pid: 101, status: .exited(code: 1), now: at(.seconds(3)))
        XCTAssertEqual(table.departedRequests, 22)
        XCTAssertEqual(table.departedAccepted, 4)

        table.heartbeat(pid: 999, stats: WorkerStats(requests: 1000), now: at(.seconds(3)))
        XCTAssertNil(table.workers[999], "a heartbeat from an unknown pid adds nothing")
    }

    // MARK: Regressions: the master's poll timeout comes from nextDeadline, so it must never stay in the past

    /// After any tick, nothing the table could act on is overdue: otherwise the master spins at 100% CPU.
    func assertNothingOverdue(_ table: Table, at now: Instant, file: StaticString = #filePath, line: UInt = #line) {
        if let next = table.nextDeadline {
            XCTAssertGreaterThan(next, now, "nextDeadline is in the past after a tick", file: file, line: line)
        }
    }

    func testKillAndRespawnLoopBacksOffAndNeverLeavesAPastDeadline() throws {
        var table = bootedTable(workers: 1)
        var now = t0
        var pid = pid(0)
        for round in 1...4 {
            now = now + timeout
            var actions = table.tick(now: now)
            XCTAssertEqual(actions, [.kill(pid: pid, reason: .bootTimeout)], "round \(round): no replacement before the reap")
            assertNothingOverdue(table, at: now)
            let (report, afterReap) = table.reaped(pid: pid, status: .signaled(.kill), now: now)
            XCTAssertEqual(try XCTUnwrap(report).crashStreak, round)
            actions = afterReap
            if round == 1 {
                XCTAssertEqual(actions, [.spawn(slot: 0, generation: 1)])
            } else {
                XCTAssertEqual(actions, [], "round \(round) backs off")
                let due = try XCTUnwrap(table.nextDeadline)
                XCTAssertGreaterThan(due, now)
                XCTAssertEqual(table.tick(now: due), [.spawn(slot: 0, generation: 1)])
                now = due
            }
            pid += 1
            table.spawned(pid: pid, slot: 0, generation: 1, now: now)
            assertNothingOverdue(table, at: now)
        }
    }

    func testFastShutdownWaitsForTheFastTimeoutWithoutAPastDeadline() {
        var table = readyTable(workers: 2)
        _ = table.shutdown(.fast, now: t0)
        XCTAssertEqual(table.tick(now: at(.milliseconds(500))), [])
        XCTAssertEqual(table.nextDeadline, at(.seconds(1)))
        XCTAssertEqual(kills(table.tick(now: at(.seconds(1)))).count, 2)
        XCTAssertNil(table.nextDeadline, "after the kills only reaps are awaited")
    }

    func testShutdownDuringReloadIgnoresTheOldQuitDeadline() {
        var table = readyTable(workers: 1)
        _ = table.reload(now: t0)
        table.spawned(pid: 200, slot: 0, generation: 2, now: t0)
        _ = table.ready(pid: 200, now: t0)  // the old worker is now retiring until t0+30s
        _ = table.shutdown(.graceful, now: at(.seconds(10)))
        XCTAssertEqual(table.tick(now: at(.seconds(31))), [])
        assertNothingOverdue(table, at: at(.seconds(31)))
        XCTAssertEqual(table.nextDeadline, at(.seconds(40)) + table.policy.cutMargin)
    }

    func testFastStopNeverExtendsAShorterGracefulStop() {
        var table = Table(workers: 1, policy: .init(timeout: timeout, gracefulTimeout: .milliseconds(200)))
        _ = table.tick(now: t0)
        table.spawned(pid: 100, slot: 0, generation: 1, now: t0)
        _ = table.shutdown(.graceful, now: t0)  // SIGKILL at 200 ms + the cut margin
        _ = table.shutdown(.fast, now: at(.milliseconds(300)))  // would be 300 ms + the fast timeout
        XCTAssertEqual(table.nextDeadline, at(.milliseconds(200)) + table.policy.cutMargin)
    }

    func testRestartsCountOnlyWorkersThatAreReplaced() {
        var table = readyTable(workers: 2)
        _ = table.scale(by: -1, now: t0)  // slot 1 retires
        _ = table.tick(now: at(.seconds(30)) + table.policy.cutMargin)  // and overstays: killed
        _ = table.reaped(pid: pid(1), status: .signaled(.kill), now: at(.seconds(31)))
        XCTAssertEqual(table.restarts, 0)
        _ = table.reaped(pid: pid(0), status: .signaled(.segmentationFault), now: at(.seconds(30)))
        XCTAssertEqual(table.restarts, 1)
    }

    // MARK: At the largest worker count

    /// The rules hold at `Configuration.maximumWorkers`: a reload's successors reporting ready in
    /// any order each retire exactly their own slot's predecessor, and a scale-down to one worker
    /// retires every other slot. (Each event reconciles in one pass over the workers, so this is
    /// quick even in a debug build.)
    func testAReloadAndAScaleDownAtTheLargestWorkerCountTouchEachWorkerOnce() throws {
        let count = Configuration.maximumWorkers
        var table = readyTable(workers: count)
        let successor = { (slot: Int) in ProcessID(10_000 + slot) }
        XCTAssertEqual(table.reload(now: at(.seconds(1))), (0..<count).map { .spawn(slot: $0, generation: 2) })
        for slot in 0..<count { table.spawned(pid: successor(slot), slot: slot, generation: 2, now: at(.seconds(1))) }
        XCTAssertEqual(table.tick(now: at(.seconds(2))), [], "nobody quits before a successor is ready")

        // Ready in an order unrelated to the slots' (odd slots downwards, then even upwards).
        let readyAt = at(.seconds(3))
        let order = Array(stride(from: count - 1, through: 1, by: -2)) + Array(stride(from: 0, to: count, by: 2))
        XCTAssertEqual(order.count, count)
        for slot in order {
            XCTAssertEqual(table.ready(pid: successor(slot), now: readyAt), [.quit(pid: pid(slot), deadline: readyAt + graceful, reason: .reload)])
        }
        XCTAssertTrue(table.isSettled)
        XCTAssertEqual(table.servingCount, count)
        for slot in 0..<count {
            let (report, actions) = table.reaped(pid: pid(slot), status: .exited(code: 0), now: at(.seconds(4)))
            XCTAssertEqual(report?.cause, .retired)
            XCTAssertEqual(actions, [])
        }
        XCTAssertEqual(table.workers.count, count)

        let scaledAt = at(.seconds(5))
        let down = try XCTUnwrap(table.scale(by: 1 - count, now: scaledAt))
        XCTAssertEqual(down, (1..<count).map { .quit(pid: successor($0), deadline: scaledAt + graceful, reason: .scaleDown) })
        XCTAssertEqual(table.tick(now: at(.seconds(6))), [], "each quit is sent once")
        XCTAssertEqual(table.servingCount, 1)
        XCTAssertEqual(table.restarts, 0)
    }
}
