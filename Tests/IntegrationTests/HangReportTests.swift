import Foundation
import Glibc
import XCTest

/// A worker past its heartbeat deadline: the master logs where it was, then kills and replaces it.
final class HangReportTests: XCTestCase {
    func testAHungWorkersKillLineNamesTheFunctionItSpinsIn() throws {
        let server = try ServerProcess(["start", "--app", "spin", "--workers", "1", "--bind", "127.0.0.1:0", "--timeout", "3s",
                                        "--health-interval", "0"], binary: "supervisor-fixture")
        let port = server.port()
        server.waitForReady(1)
        let hung = try XCTUnwrap(server.workerPIDs.first)
        let client = try EchoClient(port: port)
        try client.send("GET /spin HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { ServerProcess.threadCount(hung) >= 2 || !ServerProcess.isAlive(hung) })
        XCTAssertGreaterThanOrEqual(ServerProcess.threadCount(hung), 2, "hung with a pool thread (started on demand) beside its loop")
        let line = try XCTUnwrap(server.waitForLog("msg=\"killing worker\"", "pid=\(hung) ", "reason=timeout").first)
        XCTAssertTrue(line.contains("slot=0 "), line)
        let stack = try XCTUnwrap(line.range(of: "stack=\"")).upperBound
        let firstFrame = line[stack...].prefix { $0 != "<" }
        XCTAssertTrue(firstFrame.contains("spinInHungHandler"), "the innermost frame is the spinning function: \(line)")
        XCTAssertTrue(line.contains("wchan="), "the kernel's view is on the same line: \(line)")
        XCTAssertEqual(server.lines(containing: "msg=\"killing worker\"").count, 1, "one line")
        server.waitForLog("msg=\"worker exited\"", "pid=\(hung) ", "status=signal:KILL", "reason=timeout")
        server.waitForReady(2)
        XCTAssertFalse(ServerProcess.isAlive(hung))
        let replacement = server.workerPIDs
        XCTAssertEqual(replacement.count, 1)
        XCTAssertNotEqual(replacement.first, hung)
    }

    func testAStoppedWorkerThatCannotAnswerIsStillKilledWithTheKernelsView() throws {
        let server = try ServerProcess(["start", "--app", "spin", "--workers", "1", "--bind", "127.0.0.1:0", "--timeout", "1s",
                                        "--health-interval", "0"], binary: "supervisor-fixture")
        server.waitForReady(1)
        let stopped = try XCTUnwrap(server.workerPIDs.first)
        kill(stopped, SIGSTOP)
        let line = try XCTUnwrap(server.waitForLog("msg=\"killing worker\"", "pid=\(stopped) ", "reason=timeout").first)
        XCTAssertTrue(line.contains("stack=\"none (no answer in 250 ms)\""), line)
        XCTAssertTrue(line.contains("wchan="), line)
        server.waitForLog("msg=\"worker exited\"", "pid=\(stopped) ", "status=signal:KILL")
        server.waitForReady(2)
    }

    func testEveryHungWorkerGetsItsOwnReport() throws {
        let server = try ServerProcess(["start", "--app", "spin", "--workers", "2", "--bind", "127.0.0.1:0", "--timeout", "2s",
                                        "--health-interval", "0"], binary: "supervisor-fixture")
        let port = server.port()
        server.waitForReady(2)
        // Two requests that never end, the second once the first has hung a worker (which has then
        // started its pool thread), so the other worker takes it.
        let workers = server.workerPIDs
        var clients: [EchoClient] = []
        var hung = Set<pid_t>()
        for count in 1...2 {
            let client = try EchoClient(port: port)
            try client.send("GET /spin HTTP/1.1\r\nHost: x\r\n\r\n")
            clients.append(client)
            XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) {
                hung.formUnion(workers.filter { ServerProcess.threadCount($0) >= 2 })
                return hung.count >= count
            })
        }
        let lines = server.waitForLog("msg=\"killing worker\"", "reason=timeout", "stack=\"supervisor_fixture.spinInHungHandler", count: 2)
        XCTAssertEqual(Set(lines.map { $0.split(separator: " ").first { $0.hasPrefix("pid=") } }).count, 2, "two workers, one line each")
        for line in lines { XCTAssertTrue(line.contains("wchan="), line) }
    }
}
