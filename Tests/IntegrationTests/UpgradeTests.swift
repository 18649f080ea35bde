import Foundation
import Glibc
import XCTest

/// SIGUSR2: a new master from the binary on disk takes over the listening sockets without a failed
/// request; a broken binary leaves the old master serving.
final class UpgradeTests: XCTestCase {
    /// A copy of the binary the test may replace on disk.
    func copyOfBinary(in directory: String) throws -> String {
        let path = directory + "/supervisor"
        try FileManager.default.copyItem(atPath: ServerProcess.binary("supervisor"), toPath: path)
        return path
    }

    func testUSR2HandsTheSocketsToANewMasterWithoutAFailedRequest() throws {
        let directory = ServerProcess.temporaryDirectory()
        let binary = try copyOfBinary(in: directory)
        let pidfile = directory + "/supervisor.pid"
        let notify = try NotifySocket(path: directory + "/notify")
        let server = try ServerProcess(["start", "--workers", "2", "--bind", "127.0.0.1:0", "--health-interval", "0", "--pidfile", pidfile],
                                       binaryPath: binary, environment: ["NOTIFY_SOCKET": notify.path])
        defer { server.stop() }
        let port = server.port()
        server.waitForLog("msg=\"generation ready\"", "cause=start")
        XCTAssertTrue(notify.waitFor("READY=1").contains("STATUS=2/2 workers ready"))

        let stream = RequestStream(port: port)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { stream.count > 20 })
        server.signal(SIGUSR2)
        let started = server.waitForLog("msg=\"binary upgrade started\"")
        let newPID = server.loggedPIDs("msg=\"binary upgrade started\"", field: " new_pid=").first ?? 0
        XCTAssertTrue(started.first?.contains("binary=\(binary)") ?? false, started.first ?? "")
        server.waitForLog("msg=\"binary upgrade complete\"", "new_pid=\(newPID)")
        XCTAssertEqual(server.waitForExit()?.code, 0, "the old master drains and exits")
        XCTAssertTrue(notify.waitFor("MAINPID=\(newPID)").contains("READY=1"), "systemd learns the new main pid")
        XCTAssertEqual(try String(contentsOfFile: pidfile, encoding: .utf8), "\(newPID)\n")
        XCTAssertTrue(ServerProcess.isAlive(newPID))
        let before = stream.count
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { stream.count > before + 20 }, "the new master serves")
        let (succeeded, failures) = stream.finish()
        XCTAssertEqual(failures, [], "no request failed during the upgrade")
        XCTAssertGreaterThan(succeeded, 40)

        // The new master answers the control socket, and stops like any master.
        let status = try runCommand(["status", "--pidfile", pidfile])
        XCTAssertTrue(status.output.hasPrefix("master  pid \(newPID) "), status.output + status.error)
        let stop = try runCommand(["stop", "--pidfile", pidfile])
        XCTAssertEqual(stop.code, 0, stop.error)
        XCTAssertFalse(ServerProcess.isAlive(newPID))
    }

    func testABrokenNewBinaryLeavesTheOldMasterServingAndASecondUSR2IsRefused() throws {
        let directory = ServerProcess.temporaryDirectory()
        let binary = try copyOfBinary(in: directory)
        let pidfile = directory + "/supervisor.pid"
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0", "--pidfile", pidfile],
                                       binaryPath: binary)
        defer { server.stop() }
        let port = server.port()
        server.waitForReady(1)

        // A release that dies just after taking the pidfile and the control socket's path (what a
        // new master does right before it reports ready): the old master says so, takes both back
        // and goes on.
        let socket = directory + "/supervisor.sock"
        try FileManager.default.removeItem(atPath: binary)
        try "#!/bin/sh\necho 'new release is broken' >&2\necho 999999 > \(pidfile)\nrm -f \(socket)\n: > \(socket)\nexit 1\n"
            .write(toFile: binary, atomically: true, encoding: .utf8)
        chmod(binary, 0o755)
        server.signal(SIGUSR2)
        let failed = server.waitForLog("msg=\"binary upgrade failed: the new master exited; still serving\"")
        XCTAssertTrue(failed.first?.contains("status=exit:1") ?? false, failed.first ?? "")
        server.waitForLog("msg=\"pidfile reclaimed from the failed new master\"")
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/hello/old").text, "Hello, old")
        XCTAssertEqual(try String(contentsOfFile: pidfile, encoding: .utf8), "\(server.pid)\n")
        let status = try runCommand(["status", "--pidfile", pidfile])
        XCTAssertTrue(status.output.hasPrefix("master  pid \(server.pid) "), "the control socket is the old master's again: \(status.output)\(status.error)")

        // A release that hangs: while it is starting, another USR2 is refused.
        try FileManager.default.removeItem(atPath: binary)
        try "#!/bin/sh\nexec sleep 30\n".write(toFile: binary, atomically: true, encoding: .utf8)
        chmod(binary, 0o755)
        server.signal(SIGUSR2)
        server.waitForLog("msg=\"binary upgrade started\"", count: 2)
        let hung = server.loggedPIDs("msg=\"binary upgrade started\"", field: " new_pid=").last ?? 0
        server.signal(SIGUSR2)
        server.waitForLog("msg=\"binary upgrade refused: one is already under way\"", "new_pid=\(hung)")
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/hello/still").text, "Hello, still")
        // Stopping the old master stops the half-started new one too.
        server.signal(SIGTERM)
        server.waitForLog("msg=\"binary upgrade cancelled\"", "new_pid=\(hung)", "reason=\"shutting down\"")
        XCTAssertEqual(server.waitForExit()?.code, 0)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { !ServerProcess.isAlive(hung) })
    }

    /// A stop with `--shutdown-delay` cancels an upgrade under way at once, as an immediate stop
    /// does. (It used to let the new master take over during the delay; the old master's delayed
    /// drain then ended in SIGKILL for its workers.)
    func testAStopDuringTheShutdownDelayCancelsAnUpgradeUnderWay() throws {
        let directory = ServerProcess.temporaryDirectory()
        let binary = try copyOfBinary(in: directory)
        let pidfile = directory + "/supervisor.pid"
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0",
                                        "--pidfile", pidfile, "--shutdown-delay", "5s"],
                                       binaryPath: binary)
        defer { server.stop() }
        server.waitForReady(1)
        // The release on disk waits for a gate before it becomes the real binary (same pid: `exec`),
        // so the stop surely arrives while the upgrade is under way.
        let real = directory + "/supervisor.real"
        let gate = directory + "/gate"
        try FileManager.default.moveItem(atPath: binary, toPath: real)
        try "#!/bin/sh\nwhile [ ! -e \(gate) ]; do sleep 0.05; done\nexec \(real) \"$@\"\n"
            .write(toFile: binary, atomically: true, encoding: .utf8)
        chmod(binary, 0o755)
        server.signal(SIGUSR2)
        server.waitForLog("msg=\"binary upgrade started\"")
        let newPID = server.loggedPIDs("msg=\"binary upgrade started\"", field: " new_pid=").first ?? 0
        server.signal(SIGTERM)
        server.waitForLog("msg=\"shutting down: out of rotation first\"")
        _ = FileManager.default.createFile(atPath: gate, contents: nil)
        server.waitForLog("msg=\"binary upgrade cancelled\"", "new_pid=\(newPID)", "reason=\"shutting down\"")
        XCTAssertEqual(server.waitForExit()?.code, 0, "the old master drains and exits cleanly")
        XCTAssertEqual(server.lines(containing: "msg=\"binary upgrade complete\""), [], "the new master never took over")
        XCTAssertEqual(server.lines(containing: "msg=\"killing worker\""), [], "no worker needed SIGKILL")
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { !ServerProcess.isAlive(newPID) }, "the new master is gone too")
    }
}

/// A unix datagram socket standing in for systemd's `NOTIFY_SOCKET`.
final class NotifySocket {
    let path: String
    let fd: Int32
    private var received: [String] = []

    init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() { raw[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw EchoClient.Failure(description: "bind \(path): errno \(errno)") }
        var tv = timeval(tv_sec: 0, tv_usec: 100_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Waits for a datagram containing `needle` (each one arrives whole); returns it.
    func waitFor(_ needle: String, timeout: TimeInterval = ServerProcess.deadline) -> String {
        var found = ""
        _ = waitUntil(timeout: timeout) {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { break }
                received.append(String(decoding: buffer[..<count], as: UTF8.self))
            }
            if let index = received.firstIndex(where: { $0.contains(needle) }) {
                found = received[index]
                received.removeSubrange(...index)
                return true
            }
            return false
        }
        if found.isEmpty { XCTFail("no notification with \(needle); got \(received)") }
        return found
    }
}
