import Foundation
import Glibc
import XCTest

/// `supervisor status|reload|stop|scale`, run as a separate process against a real master.
final class ControlTests: XCTestCase {
    func testStatusScaleReloadAndStop() throws {
        let directory = ServerProcess.temporaryDirectory()
        let pidfile = directory + "/supervisor.pid"
        let config = directory + "/supervisor.conf"
        try "workers = 2\nbind = 127.0.0.1:0\nhealth-interval = 0\npidfile = \(pidfile)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let server = try ServerProcess(["start", "--config", config])
        defer { server.stop() }
        let port = server.port()
        SupervisorStatus.wait(pidfile: pidfile, "generation 1 ready") { $0.generationReady == 1 }
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory + "/supervisor.sock"), "the control socket sits beside the pidfile")
        _ = try HTTPTestClient.get(port: port, "/hello/a")

        // Heartbeats carry the figures status shows; wait until both workers have sent one since
        // the request was served.
        SupervisorStatus.wait(pidfile: pidfile, "both workers' heartbeats since the request") { status in
            status.workers.allSatisfy { $0.rssBytes > 0 } && status.workers.contains { $0.requests == 1 }
        }
        let table = try runCommand(["status", "--pidfile", pidfile])
        XCTAssertEqual(table.code, 0, table.error)
        XCTAssertTrue(table.output.hasPrefix("master  pid \(server.pid)  up "), table.output)
        XCTAssertTrue(table.output.contains("generation 1  workers 2/2  serving"), table.output)
        for worker in server.workerPIDs {
            XCTAssertTrue(table.output.split(separator: "\n").contains { $0.hasPrefix("\(worker) ") && $0.contains(" ready ") }, table.output)
        }

        // The same master found through the config file that names the pidfile.
        let status = try SupervisorStatus.read(["--config", config])
        XCTAssertEqual(status.master.pid, Int(server.pid))
        XCTAssertEqual(status.master.workers, 2)
        XCTAssertEqual(Set(status.workers.map(\.pid)), Set(server.workerPIDs.map(Int.init)))
        XCTAssertEqual(status.workers.map(\.requests).reduce(0, +), 1, "the one request so far")
        XCTAssertTrue(status.workers.allSatisfy { $0.rssBytes > 1_000_000 })

        let up = try runCommand(["scale", "+2", "--pidfile", pidfile])
        XCTAssertEqual(up.code, 0, up.error)
        XCTAssertEqual(up.output, "scaling from 2 to 4 workers\n")
        SupervisorStatus.wait(pidfile: pidfile, "4 workers ready") { $0.master.workers == 4 && $0.ready.count == 4 }
        let down = try runCommand(["scale", "1", "--pidfile", pidfile])
        XCTAssertEqual(down.output, "scaling from 4 to 1 workers\n", down.error)
        let refused = try runCommand(["scale", "-1", "--pidfile", pidfile])
        XCTAssertEqual(refused.code, 1)
        XCTAssertTrue(refused.error.contains("at least one worker must remain"), refused.error)
        let usage = try runCommand(["scale", "++1", "--pidfile", pidfile])
        XCTAssertEqual(usage.code, 2)

        // A reload the master refuses says why, with the file and line.
        try "workers = 2\nbind = 127.0.0.1:0\npidfile = \(pidfile)\nworkers = 3\n".write(toFile: config, atomically: true, encoding: .utf8)
        let rejected = try runCommand(["reload", "--pidfile", pidfile])
        XCTAssertEqual(rejected.code, 1)
        XCTAssertTrue(rejected.error.contains("reload rejected") && rejected.error.contains("supervisor.conf:4: 'workers' is already set on line 1"), rejected.error)
        try "workers = 2\nbind = 127.0.0.1:0\nhealth-interval = 0\npidfile = \(pidfile)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let reload = try runCommand(["reload", "--pidfile", pidfile])
        XCTAssertEqual(reload.code, 0, reload.error)
        XCTAssertTrue(reload.output.hasPrefix("reloading: generation 2 with 2 workers"), reload.output)
        server.waitForLog("msg=\"generation ready\"", "generation=2", "workers=2")

        let stop = try runCommand(["stop", "--pidfile", pidfile])
        XCTAssertEqual(stop.code, 0, stop.error)
        XCTAssertTrue(stop.output.hasSuffix("stopped\n"), stop.output)
        XCTAssertEqual(server.waitForExit()?.code, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: pidfile))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/supervisor.sock"))

        let gone = try runCommand(["status", "--pidfile", pidfile])
        XCTAssertEqual(gone.code, 1)
        XCTAssertTrue(gone.error.contains("no master is running"), gone.error)
    }

    func testControlCommandsNeedAPidfile() throws {
        let result = try runCommand(["status"])
        XCTAssertEqual(result.code, 2)
        XCTAssertTrue(result.error.contains("--pidfile"), result.error)
    }

    func testAClientThatSendsNothingDoesNotHoldTheMaster() throws {
        let directory = ServerProcess.temporaryDirectory()
        let pidfile = directory + "/m.pid"
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0", "--pidfile", pidfile])
        defer { server.stop() }
        server.waitForReady(1)
        let silent = try EchoClient(unixPath: directory + "/m.sock")
        // The master keeps answering others while the silent one waits, and drops it after a second.
        let status = try runCommand(["status", "--pidfile", pidfile])
        XCTAssertEqual(status.code, 0, status.error)
        XCTAssertEqual(String(decoding: try silent.receiveAll(), as: UTF8.self), "error: no command within 1 s\n")
        let garbage = try EchoClient(unixPath: directory + "/m.sock")
        try garbage.send("restart everything\n")
        XCTAssertTrue(String(decoding: try garbage.receiveAll(), as: UTF8.self).hasPrefix("error: unknown command"))
    }
}
