import Foundation
import Glibc
import XCTest

/// Leaving a load balancer's rotation before a stop (`--shutdown-delay`), or without one
/// (`supervisor drain|undrain`): `/healthz` answers 503 while every other request is served.
final class RotationTests: XCTestCase {
    /// The health check's status through a fresh connection (a new connection may reach any worker).
    private func health(_ port: UInt16, _ path: String = "/healthz") -> Int? { try? HTTPTestClient.get(port: port, path).status }

    /// Asks `count` fresh connections, so that every worker of a shared listener is likely asked.
    private func healthStatuses(_ port: UInt16, count: Int = 20) -> Set<Int> {
        Set((0..<count).compactMap { _ in health(port) })
    }

    func testShutdownDelayFailsHealthChecksWhileStillServingThenDrains() throws {
        let server = try ServerProcess(["start", "--workers", "2", "--bind", "127.0.0.1:0", "--shutdown-delay", "1500ms", "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(2)
        XCTAssertEqual(healthStatuses(port), [200])
        server.signal(SIGTERM)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { self.healthStatuses(port, count: 4) == [503] })
        // Out of rotation, but serving: the load balancer's requests in flight still succeed.
        let served = try HTTPTestClient.get(port: port, "/hello/still")
        XCTAssertEqual(served.status, 200)
        XCTAssertEqual(served.text, "Hello, still")
        XCTAssertEqual(health(port, "/livez"), 200, "liveness stays green: an orchestrator must not kill a server for leaving rotation")
        server.waitForLog("msg=\"shutting down: out of rotation first\"", "signal=TERM", "delay_s=1.5")
        XCTAssertEqual(server.waitForExit()?.code, 0)
        // The drain began only after the delay: the order of the log says so.
        let log = server.log
        let outOfRotation = try XCTUnwrap(log.range(of: "msg=\"out of rotation\""))
        let drain = try XCTUnwrap(log.range(of: "msg=\"shutting down\" after=shutdown-delay"))
        let quit = try XCTUnwrap(log.range(of: "msg=\"asking worker to quit\""))
        XCTAssertTrue(outOfRotation.lowerBound < drain.lowerBound && drain.lowerBound < quit.lowerBound, log)
    }

    func testASecondStopSignalSkipsTheRestOfTheDelay() throws {
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--shutdown-delay", "10m", "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(1)
        server.signal(SIGTERM)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { self.health(port) == 503 })
        server.signal(SIGTERM)
        XCTAssertEqual(server.waitForExit()?.code, 0, "the second TERM drains at once instead of waiting 10 minutes")
    }

    func testDrainAndUndrainFromTheControlSocket() throws {
        let directory = ServerProcess.temporaryDirectory()
        let pidfile = directory + "/supervisor.pid"
        let server = try ServerProcess(["start", "--workers", "2", "--bind", "127.0.0.1:0", "--pidfile", pidfile, "--health-interval", "0"])
        let port = server.port()
        SupervisorStatus.wait(pidfile: pidfile, "the first generation ready") { $0.generationReady != nil }
        XCTAssertEqual(healthStatuses(port), [200])

        let drained = try runCommand(["drain", "--pidfile", pidfile])
        XCTAssertEqual(drained.code, 0, drained.error)
        XCTAssertTrue(drained.output.contains("out of rotation"), drained.output)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { self.healthStatuses(port) == [503] }, "every worker fails its health check")
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/hello/x").status, 200, "and still serves")
        XCTAssertEqual(try SupervisorStatus.read(pidfile: pidfile).master.inRotation, false)
        XCTAssertTrue(try runCommand(["status", "--pidfile", pidfile]).output.contains("serving (out of rotation)"))
        XCTAssertTrue(try runCommand(["drain", "--pidfile", pidfile]).output.contains("already out of rotation"))

        // A worker started meanwhile starts out of rotation too.
        let before = Set(server.workerPIDs)
        XCTAssertEqual(try runCommand(["scale", "+1", "--pidfile", pidfile]).code, 0)
        SupervisorStatus.wait(pidfile: pidfile, "3 workers ready") { $0.ready.count == 3 }
        XCTAssertEqual(Set(server.workerPIDs).subtracting(before).count, 1)
        XCTAssertEqual(healthStatuses(port, count: 30), [503])

        let undrained = try runCommand(["undrain", "--pidfile", pidfile])
        XCTAssertEqual(undrained.code, 0, undrained.error)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { self.healthStatuses(port, count: 30) == [200] })
        XCTAssertEqual(try SupervisorStatus.read(pidfile: pidfile).master.inRotation, true)
        server.stop()
    }

    /// A binary upgrade never puts a drained server back into rotation by itself.
    func testADrainedMasterStaysOutOfRotationAcrossABinaryUpgrade() throws {
        let directory = ServerProcess.temporaryDirectory()
        let pidfile = directory + "/supervisor.pid"
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--pidfile", pidfile, "--health-interval", "0"])
        let port = server.port()
        SupervisorStatus.wait(pidfile: pidfile, "the first generation ready") { $0.generationReady != nil }
        XCTAssertEqual(try runCommand(["drain", "--pidfile", pidfile]).code, 0)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { self.health(port) == 503 })
        server.signal(SIGUSR2)
        let upgraded = SupervisorStatus.wait(pidfile: pidfile, "a new master serving") {
            $0.master.pid != Int(server.pid) && $0.generationReady != nil
        }
        let newPID = "\(upgraded?.master.pid ?? 0)"
        XCTAssertEqual(healthStatuses(port), [503], "the new master's workers start out of rotation")
        XCTAssertEqual(upgraded?.master.inRotation, false)
        XCTAssertEqual(try runCommand(["undrain", "--pidfile", pidfile]).code, 0)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { self.healthStatuses(port) == [200] })
        if let pid = pid_t(newPID) { kill(pid, SIGTERM) }
    }
}
