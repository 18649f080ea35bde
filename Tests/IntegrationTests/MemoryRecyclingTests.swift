import Foundation
import Glibc
import XCTest

/// `--max-worker-memory`: a worker whose unshared memory stays above the limit is replaced,
/// readiness-gated, and a worker below it never is.
final class MemoryRecyclingTests: XCTestCase {
    func start(limit: String, workers: Int = 1) throws -> (ServerProcess, UInt16) {
        let server = try ServerProcess(["start", "--app", "leak", "--workers", "\(workers)", "--bind", "127.0.0.1:0",
                                        "--max-worker-memory", limit, "--health-interval", "200ms"], binary: "supervisor-fixture")
        let port = server.port()
        server.waitForReady(workers)
        return (server, port)
    }

    /// The integer value of `field=` in `line`.
    func figure(_ field: String, in line: String) -> UInt64? {
        line.range(of: " \(field)=").flatMap { UInt64(line[$0.upperBound...].prefix { $0.isNumber }) }
    }

    func testAWorkerPushedAboveTheLimitIsReplacedAndTheFigureLogged() throws {
        let (server, port) = try start(limit: "64M")
        let old = try XCTUnwrap(server.workerPIDs.first)
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/leak/96").status, 200)
        let pushed = Date()
        let line = try XCTUnwrap(server.waitForLog("msg=\"worker over memory limit\"", "pid=\(old) ").first)
        XCTAssertTrue(line.contains("slot=0 "), line)
        XCTAssertEqual(figure("limit_bytes", in: line), 64 << 20)
        XCTAssertGreaterThan(try XCTUnwrap(figure("uss_bytes", in: line)), 96 << 20, line)
        server.waitForLog("msg=\"asking worker to quit\"", "pid=\(old) ", "reason=max-worker-memory")
        server.waitForLog("msg=\"worker exited\"", "pid=\(old) ", "reason=retired")
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { server.workerPIDs.count == 1 && !server.workerPIDs.contains(old) })
        print("memory recycling: limit 64 MiB, uss \(figure("uss_bytes", in: line) ?? 0) B, replaced in \(Int(Date().timeIntervalSince(pushed) * 1000)) ms")
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/").text, "ok\n", "the replacement serves")
    }

    func testAWorkerBelowTheLimitIsNeverTouched() throws {
        let (server, port) = try start(limit: "64M", workers: 2)
        let before = server.workerPIDs
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/leak/16").status, 200, "some memory, well below the limit")
        let checks = server.lines(containing: "msg=health").count
        server.waitForLog("msg=health", count: checks + 8)
        XCTAssertEqual(server.lines(containing: "over memory limit"), [])
        XCTAssertEqual(server.lines(containing: "msg=\"worker spawned\"").count, 2)
        XCTAssertEqual(server.workerPIDs, before)
    }

    func testTheReplacementFailsNoRequestUnderKeepAliveLoad() throws {
        let (server, port) = try start(limit: "64M")
        let old = try XCTUnwrap(server.workerPIDs.first)
        let stream = RequestStream(port: port, target: "/", expected: "ok\n", keepAlive: true)
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { stream.count >= 50 }, "load is flowing")
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/leak/96").status, 200)
        server.waitForLog("msg=\"worker over memory limit\"", "pid=\(old) ")
        server.waitForLog("msg=\"worker exited\"", "pid=\(old) ", "reason=retired")
        let atReplacement = stream.count
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { stream.count >= atReplacement + 50 }, "served by the successor")
        let (succeeded, failures) = stream.finish()
        print("memory recycling under keep-alive load: \(succeeded) requests on \(stream.connections) connections, \(failures.count) failed")
        XCTAssertEqual(failures, [])
        XCTAssertGreaterThanOrEqual(stream.connections, 2, "the old worker closed its kept connection, with a response")
        XCTAssertLessThan(stream.connections, succeeded / 10, "requests went on kept-alive connections")
    }

    func testABadSizeIsRefusedWithAClearLine() throws {
        for bad in ["lots", "-5M", "2T", "12Q"] {
            let server = try ServerProcess(["start", "--app", "leak", "--bind", "127.0.0.1:0", "--max-worker-memory", bad], binary: "supervisor-fixture")
            XCTAssertEqual(server.waitForExit()?.code, 2, bad)
            XCTAssertTrue(server.log.contains("invalid value for --max-worker-memory"), server.log)
            XCTAssertEqual(server.lines(containing: "worker spawned"), [])
        }
    }
}
