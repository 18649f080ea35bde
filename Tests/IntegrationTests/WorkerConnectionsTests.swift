import Foundation
import Glibc
import XCTest

/// `--worker-connections N`: a worker holds at most N connections; the next ones wait in the
/// listen queue (or go to another worker) and are served as soon as a place frees up.
final class WorkerConnectionsTests: XCTestCase {
    func testAFullWorkerStopsAcceptingAndResumesWhenAConnectionCloses() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0",
                                        "--worker-connections", "5", "--health-interval", "200ms"])
        let port = server.port()
        server.waitForReady(1)
        var held = try (0..<5).map { index -> EchoClient in
            let client = try EchoClient(port: port)
            XCTAssertEqual(try client.echo("held \(index)\n"), "held \(index)\n")
            return client
        }
        server.waitForLog("msg=health", "busiest_worker_connections=5/5")
        // The kernel completes the handshake (the listen queue), but the worker does not take it.
        let waiting = (0..<20).compactMap { _ in try? EchoClient(port: port, timeout: 20) }
        XCTAssertEqual(waiting.count, 20)
        for (index, client) in waiting.enumerated() { try client.send("queued \(index)\n") }
        let probe = waiting[0]
        var tv = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(probe.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        XCTAssertThrowsError(try probe.receive(9), "a full worker accepts nothing more")
        tv = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(probe.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        // Each closed connection lets one waiting one in, until all have been served.
        held.removeAll()
        var served = 0
        for (index, client) in waiting.enumerated() {
            XCTAssertEqual(try client.receive("queued \(index)\n".utf8.count), "queued \(index)\n")
            client.abort()
            served += 1
        }
        XCTAssertEqual(served, 20)
        XCTAssertEqual(server.lines(containing: "worker exited").count, 0, "no crash")
        XCTAssertEqual(try EchoClient(port: port).echo("after\n"), "after\n")
    }

    func testStatusShowsHowFullEachWorkerIs() throws {
        let directory = ServerProcess.temporaryDirectory()
        let pidfile = directory + "/s.pid"
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--pidfile", pidfile,
                                        "--worker-connections", "1000", "--health-interval", "0"])
        let port = server.port()
        SupervisorStatus.wait(pidfile: pidfile, "the first generation ready") { $0.generationReady != nil }
        let client = try EchoClient(port: port)
        XCTAssertEqual(try client.echo("x\n"), "x\n")
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) {
            ((try? runCommand(["status", "--pidfile", pidfile]))?.output ?? "").contains(" 1/1000 ")
        })
        XCTAssertEqual(try SupervisorStatus.read(pidfile: pidfile).master.connectionLimit, 1000)
        withExtendedLifetime(client) {}
    }
}
