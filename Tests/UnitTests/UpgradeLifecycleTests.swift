import Posix
import XCTest

@testable import Supervisor

/// `UpgradeLifecycle` driven with a fake clock: every path of a binary upgrade, as the old master
/// and as the new one, and the awkward orders (EOF then reap, reap then EOF, a second USR2, a stop
/// half-way), without a process or a pipe.
final class UpgradeLifecycleTests: XCTestCase {
    typealias Lifecycle = UpgradeLifecycle

    /// An arbitrary, non-zero start so that `t0 + negative` bugs would not hide at zero.
    let t0 = Instant(nanoseconds: 5_000_000_000_000)
    let newPID: ProcessID = 4242
    /// Never opened: the lifecycle only carries it, the master reads and closes it.
    let pipe = FileDescriptor(rawValue: 57)
    let origin = BinaryUpgrade.Origin(oldPID: 77, readyFD: FileDescriptor(rawValue: 9), outOfRotation: false)

    func at(_ offset: Duration) -> Instant { t0 + offset }

    /// An old master whose new master was forked at `t0`.
    func starting(policy: Lifecycle.Policy = .init()) -> Lifecycle {
        var upgrade = Lifecycle(origin: nil, policy: policy)
        XCTAssertNil(upgrade.refusal(serving: true))
        upgrade.started(pid: newPID, readyPipe: pipe, now: t0)
        return upgrade
    }

    // MARK: Starting

    func testAnIdleMasterStartsAnUpgradeOnlyWhileServing() {
        let upgrade = Lifecycle(origin: nil)
        XCTAssertEqual(upgrade.state, .idle)
        XCTAssertNil(upgrade.refusal(serving: true))
        XCTAssertEqual(upgrade.refusal(serving: false), .shuttingDown)
        XCTAssertTrue(upgrade.isInCharge)
        XCTAssertNil(upgrade.readyPipe)
        XCTAssertNil(upgrade.nextDeadline)
        XCTAssertNil(upgrade.unfinishedChild)
    }

    func testAStartedUpgradeWatchesThePipeUntilTheReadyTimeout() {
        let upgrade = starting()
        XCTAssertEqual(upgrade.state, .starting(pid: newPID, readyPipe: pipe, deadline: at(.seconds(60))))
        XCTAssertEqual(upgrade.readyPipe, pipe)
        XCTAssertEqual(upgrade.nextDeadline, at(BinaryUpgrade.readyTimeout))
        XCTAssertTrue(upgrade.isUnderWay)
        XCTAssertTrue(upgrade.isInCharge, "until the new master reports ready, this one is")
        XCTAssertEqual(upgrade.unfinishedChild, newPID)
    }

    func testASecondUSR2WhileOneIsStartingIsRefusedNamingTheNewMaster() {
        let upgrade = starting()
        XCTAssertEqual(upgrade.refusal(serving: true), .underWay(newPID: newPID))
        XCTAssertEqual(upgrade.refusal(serving: false), .shuttingDown, "stopping is said first")
    }

    // MARK: Ready

    func testReadyHandsOverClosesThePipeAndLeavesNothingToWatchOrKill() {
        var upgrade = starting()
        XCTAssertEqual(upgrade.pipeRead(.ready, serving: true, now: at(.seconds(3))), [.closePipe(pipe), .handOver(newPID: newPID)])
        XCTAssertEqual(upgrade.state, .handedOver(newPID: newPID))
        XCTAssertTrue(upgrade.hasHandedOver)
        XCTAssertFalse(upgrade.isInCharge, "the sockets and their files are the new master's now")
        XCTAssertFalse(upgrade.isUnderWay)
        XCTAssertNil(upgrade.readyPipe)
        XCTAssertNil(upgrade.nextDeadline)
        XCTAssertNil(upgrade.unfinishedChild, "the new master in charge must outlive us")
        XCTAssertEqual(upgrade.tick(now: at(.seconds(3600))), [], "no deadline after a hand-over")
        XCTAssertEqual(upgrade.cancel(), [], "a stop after the hand-over leaves the new master alone")
        XCTAssertEqual(upgrade.refusal(serving: true), .shuttingDown)
    }

    func testTheNewMasterReapedAfterTheHandOverIsAnyOtherChild() {
        var upgrade = starting()
        _ = upgrade.pipeRead(.ready, serving: true, now: at(.seconds(3)))
        XCTAssertNil(upgrade.reaped(pid: newPID, status: .exited(code: 0)))
        XCTAssertEqual(upgrade.state, .handedOver(newPID: newPID))
    }

    func testReadyWhileThisMasterIsStoppingIsTooLateAndTheNewMasterIsToldToGo() {
        var upgrade = starting()
        XCTAssertEqual(upgrade.pipeRead(.ready, serving: false, now: at(.seconds(3))), [.closePipe(pipe), .signal(newPID, .terminate)])
        XCTAssertEqual(upgrade.state, .abandoned(pid: newPID, killAt: at(.seconds(3) + BinaryUpgrade.exitTimeout)))
        XCTAssertFalse(upgrade.hasHandedOver)
    }

    // MARK: The new master fails before it is ready

    func testEOFThenReapTermsItThenLogsItsStatusAndServesOn() {
        var upgrade = starting()
        XCTAssertEqual(upgrade.pipeRead(.closed, serving: true, now: at(.seconds(2))), [.closePipe(pipe), .signal(newPID, .terminate)])
        XCTAssertEqual(upgrade.state, .abandoned(pid: newPID, killAt: at(.seconds(12))))
        XCTAssertNil(upgrade.readyPipe, "a closed pipe is not watched")
        XCTAssertEqual(upgrade.nextDeadline, at(.seconds(12)))
        XCTAssertEqual(upgrade.refusal(serving: true), .underWay(newPID: newPID), "still our child until it is reaped")
        XCTAssertTrue(upgrade.isInCharge)
        XCTAssertEqual(upgrade.tick(now: at(.seconds(12)) + .nanoseconds(-1)), [])

        XCTAssertEqual(upgrade.reaped(pid: newPID, status: .exited(code: 1)),
                       [.report(.exited(newPID: newPID, status: .exited(code: 1))), .reclaimFiles], "the pipe is not closed twice")
        XCTAssertEqual(upgrade.state, .idle)
        XCTAssertNil(upgrade.nextDeadline)
        XCTAssertNil(upgrade.unfinishedChild)
        XCTAssertNil(upgrade.refusal(serving: true), "the next USR2 may try again")
    }

    func testReapThenEOFClosesThePipeOnceAndIgnoresTheLateEOF() {
        var upgrade = starting()
        XCTAssertEqual(upgrade.reaped(pid: newPID, status: .signaled(.segmentationFault)),
                       [.report(.exited(newPID: newPID, status: .signaled(.segmentationFault))), .closePipe(pipe), .reclaimFiles])
        XCTAssertEqual(upgrade.state, .idle)
        XCTAssertNil(upgrade.readyPipe)
        XCTAssertEqual(upgrade.pipeRead(.closed, serving: true, now: at(.seconds(1))), [])
        XCTAssertEqual(upgrade.pipeRead(.ready, serving: true, now: at(.seconds(1))), [], "no hand-over to a process that is gone")
        XCTAssertEqual(upgrade.state, .idle)
    }

    func testANewMasterThatIgnoresSIGTERMIsKilledAtTheExitTimeoutOnce() {
        var upgrade = starting()
        _ = upgrade.pipeRead(.closed, serving: true, now: at(.seconds(2)))
        XCTAssertEqual(upgrade.tick(now: at(.seconds(12))), [.report(.ignoredTerminate(newPID: newPID)), .signal(newPID, .kill), .reclaimFiles])
        XCTAssertEqual(upgrade.state, .abandoned(pid: newPID, killAt: nil))
        XCTAssertNil(upgrade.nextDeadline, "nothing is due until it is reaped")
        XCTAssertEqual(upgrade.tick(now: at(.seconds(3600))), [], "killed once")
        XCTAssertEqual(upgrade.refusal(serving: true), .underWay(newPID: newPID))
        XCTAssertEqual(upgrade.reaped(pid: newPID, status: .signaled(.kill)),
                       [.report(.exited(newPID: newPID, status: .signaled(.kill))), .reclaimFiles])
        XCTAssertEqual(upgrade.state, .idle)
    }

    func testANewMasterNotReadyInTimeIsKilledAndThisOneServesOn() {
        var upgrade = starting()
        XCTAssertEqual(upgrade.tick(now: at(.seconds(60)) + .nanoseconds(-1)), [])
        XCTAssertEqual(upgrade.tick(now: at(.seconds(60))), [
            .report(.notReadyInTime(newPID: newPID, timeout: .seconds(60))), .closePipe(pipe), .signal(newPID, .kill), .reclaimFiles,
        ])
        XCTAssertEqual(upgrade.state, .abandoned(pid: newPID, killAt: nil))
        XCTAssertNil(upgrade.readyPipe)
        XCTAssertEqual(upgrade.pipeRead(.ready, serving: true, now: at(.seconds(61))), [], "a word after the deadline is not heard")
        XCTAssertEqual(upgrade.reaped(pid: newPID, status: .signaled(.kill)),
                       [.report(.exited(newPID: newPID, status: .signaled(.kill))), .reclaimFiles])
        XCTAssertNil(upgrade.refusal(serving: true))
    }

    func testThePolicysTimeoutsAreTheOnesUsed() {
        var policy = Lifecycle.Policy()
        policy.readyTimeout = .seconds(5)
        policy.exitTimeout = .milliseconds(250)
        var upgrade = starting(policy: policy)
        XCTAssertEqual(upgrade.nextDeadline, at(.seconds(5)))
        _ = upgrade.pipeRead(.closed, serving: true, now: at(.seconds(1)))
        XCTAssertEqual(upgrade.nextDeadline, at(.milliseconds(1250)))
        XCTAssertEqual(kills(upgrade.tick(now: at(.milliseconds(1250)))), [.signal(newPID, .kill)])
    }

    func testAnotherChildsExitIsNotTheNewMasters() {
        var upgrade = starting()
        XCTAssertNil(upgrade.reaped(pid: newPID + 1, status: .exited(code: 0)))
        XCTAssertEqual(upgrade.state, .starting(pid: newPID, readyPipe: pipe, deadline: at(.seconds(60))))
        var idle = Lifecycle(origin: nil)
        XCTAssertNil(idle.reaped(pid: newPID, status: .exited(code: 0)))
        XCTAssertEqual(idle.state, .idle)
    }

    // MARK: A stop during an upgrade

    func testAStopWhileStartingTermsTheNewMasterAndIgnoresWhatItDoesNext() {
        var upgrade = starting()
        XCTAssertEqual(upgrade.cancel(), [.report(.cancelled(newPID: newPID)), .signal(newPID, .terminate), .closePipe(pipe), .reclaimFiles])
        XCTAssertEqual(upgrade.state, .cancelled(pid: newPID))
        XCTAssertTrue(upgrade.isInCharge, "the listeners stay this master's to close")
        XCTAssertNil(upgrade.readyPipe)
        XCTAssertNil(upgrade.nextDeadline)
        XCTAssertEqual(upgrade.unfinishedChild, newPID, "killed at exit if still there")
        XCTAssertEqual(upgrade.pipeRead(.ready, serving: false, now: at(.seconds(1))), [])
        XCTAssertEqual(upgrade.tick(now: at(.seconds(3600))), [])
        XCTAssertEqual(upgrade.cancel(), [], "a second stop does not cancel twice")
        XCTAssertEqual(upgrade.refusal(serving: false), .shuttingDown)
        XCTAssertEqual(upgrade.refusal(serving: true), .shuttingDown)

        XCTAssertNil(upgrade.reaped(pid: newPID, status: .signaled(.terminate)), "reaped like any stray child")
        XCTAssertNil(upgrade.unfinishedChild, "a reaped pid may be reused: never killed at exit")
    }

    func testAStopWhileTheFailedNewMasterIsExitingKillsIt() {
        var upgrade = starting()
        _ = upgrade.pipeRead(.closed, serving: true, now: at(.seconds(2)))
        XCTAssertEqual(upgrade.cancel(), [.report(.cancelled(newPID: newPID)), .signal(newPID, .kill), .reclaimFiles])
        XCTAssertEqual(upgrade.state, .cancelled(pid: newPID))
        XCTAssertEqual(upgrade.tick(now: at(.seconds(12))), [], "the exit deadline is no longer ours to keep")
    }

    func testAStopWithNoUpgradeDoesNothing() {
        var upgrade = Lifecycle(origin: nil)
        XCTAssertEqual(upgrade.cancel(), [])
        XCTAssertEqual(upgrade.state, .idle)
    }

    // MARK: The new master's side

    func testANewMasterTakesOverOnceItsFirstGenerationIsReady() {
        var upgrade = Lifecycle(origin: origin)
        XCTAssertEqual(upgrade.state, .takingOver(origin))
        XCTAssertEqual(upgrade.origin, origin)
        XCTAssertFalse(upgrade.isInCharge, "the old master still serves on these sockets")
        XCTAssertEqual(upgrade.refusal(serving: true), .takingOver)
        XCTAssertEqual(upgrade.cancel(), [], "a stop before taking over leaves the old master's sockets alone")
        XCTAssertNil(upgrade.reaped(pid: 77, status: .exited(code: 0)))

        XCTAssertEqual(upgrade.settled(), [.takeOver(origin)])
        XCTAssertEqual(upgrade.state, .idle)
        XCTAssertNil(upgrade.origin)
        XCTAssertTrue(upgrade.isInCharge)
        XCTAssertEqual(upgrade.settled(), [], "a later reload settling takes over nothing")
        XCTAssertNil(upgrade.refusal(serving: true), "once in charge, it may be upgraded in turn")
    }

    func testAMasterStartedNormallyHasNothingToTakeOver() {
        var upgrade = Lifecycle(origin: nil)
        XCTAssertEqual(upgrade.settled(), [])
        XCTAssertEqual(upgrade.state, .idle)
    }

    func kills(_ actions: [Lifecycle.Action]) -> [Lifecycle.Action] {
        actions.filter { $0 == .signal(newPID, .kill) }
    }
}
