import Foundation
import Glibc
import Synchronization
import XCTest

/// The master's signals, sent for real.
final class SignalTests: XCTestCase {
    func testInterruptLetsEveryConversationFinishThenExitsZero() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "2", "--bind", "127.0.0.1:0", "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(2)
        let workers = server.workerPIDs
        let busy = try EchoClient(port: port)
        XCTAssertEqual(try busy.echo("first\n"), "first\n")
        try busy.send("second, half")
        let idle = try EchoClient(port: port)
        XCTAssertEqual(try idle.echo("idle\n"), "idle\n")

        server.signal(SIGINT)
        server.waitForLog("msg=\"worker draining\"", count: 2)
        // A drain cuts no conversation: the one mid-line gets its line back, the idle one is still
        // served (its next line may already be on the wire), until each client closes.
        try busy.send(" done\n")
        XCTAssertEqual(try busy.receive(18), "second, half done\n")
        XCTAssertEqual(try idle.echo("still here\n"), "still here\n")
        XCTAssertNil(server.waitForExit(timeout: 0.5), "the master waits for its workers' conversations")
        busy.abort()
        idle.abort()

        let exit = try XCTUnwrap(server.waitForExit())
        XCTAssertEqual(exit.code, 0)
        for worker in workers { XCTAssertFalse(ServerProcess.isAlive(worker), "worker \(worker) outlived the master") }
        XCTAssertEqual(server.lines(containing: "reason=retired").count, 2)
    }

    func testSecondInterruptStopsImmediately() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--graceful-timeout", "60s", "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(1)
        let busy = try EchoClient(port: port)
        try busy.send("never finished")
        server.signal(SIGINT)
        server.waitForLog("msg=\"worker draining\"")
        server.signal(SIGINT)
        let exit = try XCTUnwrap(server.waitForExit(timeout: 10), "a second INT must not wait out the 60 s graceful timeout")
        XCTAssertEqual(exit.code, 0)
        server.waitForLog("msg=\"killing worker\"", "reason=immediate")
        withExtendedLifetime(busy) {}  // the half-sent line kept the worker busy throughout
    }

    func testGracefulTimeoutKillsWhatIsLeft() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--graceful-timeout", "500ms", "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(1)
        let worker = try XCTUnwrap(server.workerPIDs.first)
        kill(worker, SIGSTOP)  // a worker that cannot finish in time
        _ = try EchoClient(port: port)
        server.signal(SIGTERM)
        server.waitForLog("msg=\"killing worker\"", "pid=\(worker) ", "reason=graceful-timeout")
        XCTAssertEqual(try XCTUnwrap(server.waitForExit()).code, 0)
        XCTAssertFalse(ServerProcess.isAlive(worker))
    }

    func testQuitIsAFastShutdown() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "2", "--bind", "127.0.0.1:0", "--graceful-timeout", "60s", "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(2)
        let busy = try EchoClient(port: port)
        try busy.send("mid-line")
        server.signal(SIGQUIT)
        XCTAssertEqual(try XCTUnwrap(server.waitForExit(timeout: 10)).code, 0)
        XCTAssertTrue(busy.isClosedByPeer())
    }

    func testKilledMasterLeavesNoOrphans() throws {
        // An echo conversation keeps a draining worker until it idles past --idle-timeout.
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "3", "--bind", "127.0.0.1:0", "--idle-timeout", "500ms",
                                        "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(3)
        let workers = server.workerPIDs
        XCTAssertEqual(workers.count, 3)
        let open = try EchoClient(port: port)  // an idle connection keeps a worker only until its idle timeout
        XCTAssertEqual(try open.echo("x\n"), "x\n")
        server.signal(SIGKILL)
        _ = server.waitForExit()
        let start = Date()
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { workers.allSatisfy { !ServerProcess.isAlive($0) } })
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertLessThan(elapsed, 2.0, "workers must exit within 2 s of the master's death")
    }

    func testHangupReplacesEveryWorkerWithoutFailingAConnection() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "2", "--bind", "127.0.0.1:0", "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(2)
        let before = Set(server.workerPIDs)
        let traffic = TrafficLoop(port: port)
        traffic.start()
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { traffic.succeeded > 50 })

        server.signal(SIGHUP)
        server.waitForLog("msg=\"worker exited\"", "reason=retired", count: 2)
        let after = Set(server.workerPIDs)
        let successesAtReload = traffic.succeeded
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { traffic.succeeded > successesAtReload + 50 })
        traffic.stop()

        XCTAssertEqual(after.count, 2)
        XCTAssertTrue(after.isDisjoint(with: before), "every worker pid changed: before \(before), after \(after)")
        XCTAssertEqual(traffic.failed, 0, "failures: \(traffic.failures.prefix(5))")
        // Readiness gate: each old worker was asked to quit only after a new one was ready.
        let log = server.log.split(separator: "\n")
        guard let firstQuit = log.firstIndex(where: { $0.contains("reason=reload") }),
              let firstNewReady = log.firstIndex(where: { $0.contains("worker ready") && $0.contains("generation=2") })
        else { return XCTFail("reload lines missing:\n\(server.log)") }
        XCTAssertLessThan(firstNewReady, firstQuit)
        XCTAssertEqual(ServerProcess.threadCount(server.pid), 1)
    }

    func testTtinAndTtouScaleByOneNeverBelowOne() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(1)
        server.signal(SIGTTIN)
        server.waitForLog("msg=scaling", "from=1", "to=2")
        server.waitForReady(2)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { server.workerPIDs.count == 2 })
        server.signal(SIGTTOU)
        server.waitForLog("msg=\"worker exited\"", "reason=retired")
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { server.workerPIDs.count == 1 })
        server.signal(SIGTTOU)
        server.waitForLog("msg=\"scale refused\"")
        XCTAssertEqual(server.workerPIDs.count, 1)
        XCTAssertEqual(try EchoClient(port: port).echo("still one\n"), "still one\n")
    }
}

/// New connections in a loop on a background thread, each echoing one line, counting failures.
final class TrafficLoop: @unchecked Sendable {
    let port: UInt16
    private let running = Atomic<Bool>(false)
    private let successes = Atomic<Int>(0)
    private let failureCount = Atomic<Int>(0)
    private let lock = NSLock()
    private var failureList: [String] = []
    private var thread: Thread?
    private let done = DispatchSemaphore(value: 0)

    init(port: UInt16) { self.port = port }

    var succeeded: Int { successes.load(ordering: .relaxed) }
    var failed: Int { failureCount.load(ordering: .relaxed) }
    var failures: [String] { lock.withLock { failureList } }

    func start() {
        running.store(true, ordering: .relaxed)
        let thread = Thread { [self] in
            var index = 0
            while running.load(ordering: .relaxed) {
                index += 1
                let line = "request \(index)\n"
                do {
                    let reply = try EchoClient(port: port).echo(line)
                    if reply == line { successes.add(1, ordering: .relaxed) } else { record("wrong reply \(reply.debugDescription)") }
                } catch {
                    record("\(error)")
                }
            }
            done.signal()
        }
        self.thread = thread
        thread.start()
    }

    func stop() {
        running.store(false, ordering: .relaxed)
        done.wait()
    }

    private func record(_ failure: String) {
        failureCount.add(1, ordering: .relaxed)
        lock.withLock { failureList.append(failure) }
    }
}
