import Foundation
import Glibc
import XCTest

/// The master keeps workers alive: crashes, hangs, crash loops, boot failures.
final class SupervisionTests: XCTestCase {
    func testKilledWorkerIsReplacedAndServiceContinues() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "2", "--bind", "127.0.0.1:0", "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(2)
        let before = server.workerPIDs
        XCTAssertEqual(before.count, 2)
        let victim = before[0]
        kill(victim, SIGKILL)
        server.waitForLog("msg=\"worker exited\"", "pid=\(victim) ", "status=signal:KILL", "reason=crashed")
        server.waitForReady(3)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { server.workerPIDs.count == 2 && !server.workerPIDs.contains(victim) })
        for index in 0..<20 { XCTAssertEqual(try EchoClient(port: port).echo("after \(index)\n"), "after \(index)\n") }
    }

    func testStoppedWorkerIsKilledAfterTimeoutAndReplaced() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--timeout", "1s", "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(1)
        let hung = try XCTUnwrap(server.workerPIDs.first)
        kill(hung, SIGSTOP)
        server.waitForLog("msg=\"killing worker\"", "pid=\(hung) ", "reason=timeout")
        server.waitForLog("msg=\"worker exited\"", "pid=\(hung) ", "reason=timeout")
        server.waitForReady(2)
        XCTAssertEqual(try EchoClient(port: port).echo("served by the replacement\n"), "served by the replacement\n")
    }

    func testCrashLoopBacksOffExponentiallyAndShowsInHealth() throws {
        let server = try ServerProcess(["start", "--app", "crash-soon", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "200ms"],
                                       binary: "supervisor-fixture")
        server.waitForLog("msg=\"worker exited\"", "status=exit:7", "crash_streak=1")
        let second = server.waitForLog("msg=\"worker exited\"", "crash_streak=2")
        XCTAssertTrue(second[0].contains("respawn_in_s=1.000"), second[0])
        let third = server.waitForLog("msg=\"worker exited\"", "crash_streak=3")
        XCTAssertTrue(third[0].contains("respawn_in_s=2.000"), third[0])
        server.waitForLog("msg=health", "crash_looping=1")
        // The master itself keeps running.
        XCTAssertTrue(ServerProcess.isAlive(server.pid))
    }

    func testWorkerThatCannotBootStopsTheMasterWithAClearMessage() throws {
        let server = try ServerProcess(["start", "--app", "fail-boot", "--workers", "2", "--bind", "127.0.0.1:0"], binary: "supervisor-fixture")
        let exit = try XCTUnwrap(server.waitForExit(), "master should stop by itself")
        XCTAssertEqual(exit.code, 1)
        XCTAssertTrue(server.log.contains("fixture app refuses to boot"), server.log)
        XCTAssertTrue(server.log.contains("failed to boot"), server.log)
        XCTAssertLessThanOrEqual(server.lines(containing: "msg=\"worker spawned\"").count, 2, "no respawn loop")
        for worker in server.loggedWorkerPIDs { XCTAssertFalse(ServerProcess.isAlive(worker)) }
    }
}
