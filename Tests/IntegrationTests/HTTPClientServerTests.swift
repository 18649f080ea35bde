import Foundation
import Glibc
import XCTest

/// The HTTP client's programs (the README's fetch example, client-bench) against the real
/// binary serving `--root`: a 13 MB file byte for byte, pooled reuse, and failures as exit codes.
final class HTTPClientServerTests: XCTestCase {
    var server: ServerProcess?
    var root = ""
    var port: UInt16 = 0

    override func setUpWithError() throws {
        root = ServerProcess.temporaryDirectory()
        let server = try ServerProcess(["start", "--app", "http", "--root", root, "--workers", "1", "--bind", "127.0.0.1:0",
                                        "--health-interval", "0"])
        self.server = server
        port = server.port()
        server.waitForReady(1)
    }

    override func tearDown() {
        server?.stop()
        server = nil
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs a built program with its standard output in `output`; its exit code and standard
    /// error, or a failure if it is still running after 60 s (then killed, by pid).
    func run(_ program: String, _ arguments: [String], output: String) throws -> (code: Int32, error: String) {
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: ServerProcess.binary(program))
        process.arguments = arguments
        XCTAssertTrue(FileManager.default.createFile(atPath: output, contents: nil), output)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        defer { try? out.close() }
        let error = Pipe()
        process.standardOutput = out
        process.standardError = error
        try process.run()
        let finished = waitUntil(timeout: 60) { !process.isRunning }
        if !finished { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        XCTAssertTrue(finished, "\(program) \(arguments) still running after 60 s")
        return (process.terminationStatus, String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    func testTheReadmeFetchExampleWritesA13MBFileByteForByte() throws {
        var big = [UInt8](repeating: 0, count: 13_000_000)
        var generator = SystemRandomNumberGenerator()
        for index in stride(from: 0, to: big.count, by: 8) {
            withUnsafeBytes(of: generator.next()) { word in
                for offset in 0..<min(8, big.count - index) { big[index + offset] = word[offset] }
            }
        }
        try Data(big).write(to: URL(fileURLWithPath: root + "/big.bin"))
        let result = try run("client-example", ["http://127.0.0.1:\(port)/files/big.bin"], output: root + "/out.bin")
        XCTAssertEqual(result.code, 0, result.error)
        let fetched = try Data(contentsOf: URL(fileURLWithPath: root + "/out.bin"))
        XCTAssertEqual(fetched.count, big.count)
        XCTAssertTrue(fetched.elementsEqual(big), "the fetched file differs from the served one")
    }

    func testAMissingFileOrADeadPortExitsNonZero() throws {
        let missing = try run("client-example", ["http://127.0.0.1:\(port)/files/none"], output: root + "/none.out")
        XCTAssertEqual(missing.code, 1)
        XCTAssertTrue(missing.error.contains("status 404"), missing.error)
        server?.stop()
        let dead = try run("client-example", ["http://127.0.0.1:\(port)/files/none"], output: root + "/dead.out")
        XCTAssertEqual(dead.code, 1)
        XCTAssertTrue(dead.error.contains("ECONNREFUSED"), dead.error)
    }

    func testManyRequestsShareAFewPooledConnections() throws {
        let result = try run("client-bench", ["http://127.0.0.1:\(port)/hello/pool", "300", "3"], output: root + "/bench.out")
        XCTAssertEqual(result.code, 0, result.error)
        let report = try String(contentsOfFile: root + "/bench.out", encoding: .utf8)
        XCTAssertTrue(report.contains("requests=300 "), report)
        XCTAssertTrue(report.contains("bytes=\(300 * "Hello, pool".utf8.count)"), report)
        let opened = report.split(separator: " ").first { $0.hasPrefix("connections=") }.flatMap { Int($0.dropFirst(12)) }
        XCTAssertNotNil(opened, report)
        XCTAssertLessThanOrEqual(opened ?? 99, 3, "300 requests over at most 3 connections: \(report)")
    }
}
