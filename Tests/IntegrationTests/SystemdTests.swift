import Foundation
import Glibc
import XCTest

/// Running under systemd and in containers: readiness notifications, socket activation, logrotate,
/// and life as PID 1.
final class SystemdTests: XCTestCase {
    func testNotifiesReadyReloadingAndStopping() throws {
        let directory = ServerProcess.temporaryDirectory()
        let notify = try NotifySocket(path: directory + "/notify")
        let server = try ServerProcess(["start", "--workers", "2", "--bind", "127.0.0.1:0", "--health-interval", "0"],
                                       environment: ["NOTIFY_SOCKET": notify.path])
        defer { server.stop() }
        let ready = notify.waitFor("READY=1")
        // READY=1 only once every worker is ready: the log says so before the datagram is sent.
        XCTAssertEqual(server.lines(containing: "msg=\"worker ready\"").count, 2)
        XCTAssertTrue(ready.contains("STATUS=2/2 workers ready, generation 1"), ready)
        XCTAssertFalse(ready.contains("MAINPID"), "the pid systemd started is the main pid")

        server.signal(SIGHUP)
        let reloading = notify.waitFor("RELOADING=1")
        let monotonic = reloading.split(separator: "\n").first { $0.hasPrefix("MONOTONIC_USEC=") }.flatMap { UInt64($0.dropFirst(15)) }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let nowMicros = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        XCTAssertNotNil(monotonic, reloading)
        XCTAssertLessThanOrEqual(monotonic ?? .max, nowMicros, "MONOTONIC_USEC is CLOCK_MONOTONIC")
        XCTAssertTrue(notify.waitFor("READY=1").contains("generation 2"))
        server.waitForLog("msg=\"generation ready\"", "generation=2")

        server.signal(SIGTERM)
        _ = notify.waitFor("STOPPING=1")
        XCTAssertEqual(server.waitForExit()?.code, 0)
    }

    func testServesASocketPassedBySocketActivation() throws {
        let listener = try EchoListener()
        // LISTEN_PID must name the process that serves: the shell execs the binary, keeping its pid.
        let server = try ServerProcess(["start", "--workers", "2", "--health-interval", "0"],
                                       environment: ["LISTEN_FDS": "1", "LISTEN_FDNAMES": "http"],
                                       launcher: ["/bin/sh", "-c", "LISTEN_PID=$$ exec \"$0\" \"$@\""],
                                       passing: [(listener.fd, 3)])
        defer { server.stop() }
        let lines = server.waitForLog("msg=listening")
        XCTAssertEqual(lines.count, 1)
        XCTAssertTrue(lines.first?.contains("addr=127.0.0.1:\(listener.port) inherited=yes") ?? false, lines.first ?? "")
        server.waitForReady(2)
        XCTAssertEqual(try HTTPTestClient.get(port: listener.port, "/hello/activated").text, "Hello, activated")
        server.signal(SIGTERM)
        XCTAssertEqual(server.waitForExit()?.code, 0)
    }

    func testSocketsForAnotherProcessAreNotUsed() throws {
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0"],
                                       environment: ["LISTEN_FDS": "1", "LISTEN_PID": "1"])
        defer { server.stop() }
        let lines = server.waitForLog("msg=listening")
        XCTAssertTrue(lines.first?.contains("inherited=no") ?? false, lines.first ?? "")
        server.waitForReady(1)
    }

    func testMalformedSocketActivationIsAClearStartupError() throws {
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0"],
                                       environment: ["LISTEN_FDS": "many"],
                                       launcher: ["/bin/sh", "-c", "LISTEN_PID=$$ exec \"$0\" \"$@\""])
        defer { server.stop() }
        XCTAssertEqual(server.waitForExit()?.code, 1)
        XCTAssertTrue(server.log.contains("cannot use the inherited sockets"), server.log)
        XCTAssertTrue(server.log.contains("LISTEN_FDS"), server.log)
    }

    func testLogFileIsReopenedByTheMasterAndEveryWorkerOnUSR1() throws {
        let directory = ServerProcess.temporaryDirectory()
        let logFile = directory + "/supervisor.log"
        let server = try ServerProcess(["start", "--workers", "2", "--bind", "127.0.0.1:0", "--health-interval", "0", "--log-file", logFile])
        defer { server.stop() }
        func contents(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { contents(logFile).components(separatedBy: "msg=\"worker ready\"").count == 3 })
        let workers = server.workerPIDs
        XCTAssertEqual(workers.count, 2)
        // logrotate: rename, then USR1.
        XCTAssertEqual(rename(logFile, logFile + ".1"), 0)
        server.signal(SIGUSR1)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { contents(logFile).contains("msg=\"reopening logs\"") })
        // Replace the workers: their drain lines must land in the new file, proving they reopened too.
        server.signal(SIGHUP)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) {
            let text = contents(logFile)
            return workers.allSatisfy { text.contains("msg=\"worker draining\" worker=\($0) ") }
        }, contents(logFile))
        XCTAssertFalse(contents(logFile + ".1").contains("msg=\"worker draining\""), "nothing more goes to the rotated file")
        XCTAssertEqual(server.log, "", "with --log-file nothing is written to stderr")
    }

    static func processes(named name: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(pid_t.init).filter { (try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8)) == name + "\n" }
    }

    static func parent(of pid: pid_t) -> pid_t? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ").dropFirst().first.flatMap { pid_t($0) }
    }

    func testAsPID1ItReapsOrphansAndStopsOnTERM() throws {
        guard access("/usr/bin/unshare", X_OK) == 0, access("/usr/bin/nsenter", X_OK) == 0 else {
            throw XCTSkip("needs unshare and nsenter (util-linux)")
        }
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0"],
                                       launcher: ["/usr/bin/unshare", "--pid", "--fork", "--kill-child"])
        defer { server.stop() }
        server.waitForReady(1)
        // The supervisor is unshare's child, and PID 1 in its namespace.
        let master = try XCTUnwrap(ServerProcess.children(of: server.pid).first)
        XCTAssertEqual(server.lines(containing: "msg=\"master started\" pid=1 ").count, 1, server.log)

        // A process whose parent exits inside the namespace is re-parented to PID 1: the master.
        XCTAssertEqual(system("/usr/bin/nsenter --target \(master) --pid -- /bin/sh -c 'sleep 2 & exit 0'"), 0)
        var orphan: pid_t?
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) {
            orphan = Self.processes(named: "sleep").first { Self.parent(of: $0) == master }
            return orphan != nil
        }, "the orphan was adopted by the master: sleeps \(Self.processes(named: "sleep").map { ($0, Self.parent(of: $0)) }); log: \(server.log)")
        let adopted = try XCTUnwrap(orphan)
        // When it exits, the master reaps it: no zombie is left behind.
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { !FileManager.default.fileExists(atPath: "/proc/\(adopted)") },
                      "the orphan was reaped")
        server.waitForLog("msg=\"reaped a process that was not a worker\"")
        XCTAssertEqual(server.lines(containing: "msg=\"worker exited\"").count, 0, "no worker was mistaken for it")

        // SIGTERM reaches PID 1 (blocked and read from a signalfd, it is not dropped) and stops it cleanly.
        kill(master, SIGTERM)
        server.waitForLog("msg=\"master exiting\" code=0")
        XCTAssertEqual(server.waitForExit()?.code, 0)
    }
}
