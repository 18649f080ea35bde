import Foundation
import Glibc
import XCTest

/// A start that fails says why like every other error (the call, what it acted on, the errno's
/// name and text), names what the operator gave (the `--root`, the `--pidfile`), and says it first.
final class StartupErrorTests: XCTestCase {
    /// The tests run as root, whom permission bits do not stop: a regular file and a missing path
    /// are what make `open(O_DIRECTORY)` fail.
    func testAnUnusableRootNamesTheCallThePathAndTheErrno() throws {
        let directory = ServerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/not-a-folder"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        for (root, expected) in [(file, "ENOTDIR (Not a directory)"), (directory + "/missing", "ENOENT (No such file or directory)")] {
            let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0", "--root", root])
            XCTAssertEqual(try XCTUnwrap(server.waitForExit()).code, 1, server.log)
            XCTAssertTrue(server.log.contains("cannot open --root \(root): open(\(root)) failed: \(expected)"), server.log)
            XCTAssertFalse(server.log.contains("errno "), "no bare errno number: \(server.log)")
        }
    }

    func testAPidfileInAMissingDirectoryNamesThePidfileBeforeAnythingIsBound() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--pidfile", "/nonexistent-dir/x.pid"])
        XCTAssertEqual(try XCTUnwrap(server.waitForExit()).code, 1, server.log)
        XCTAssertTrue(server.log.contains("pidfile /nonexistent-dir/x.pid cannot be created in /nonexistent-dir"), server.log)
        XCTAssertTrue(server.log.contains("ENOENT (No such file or directory)"), server.log)
        XCTAssertFalse(server.log.contains(".sock"), "not reported as a control socket failure: \(server.log)")
        XCTAssertTrue(server.lines(containing: "msg=listening").isEmpty, "checked before binding: \(server.log)")
        XCTAssertTrue(server.lines(containing: "worker spawned").isEmpty)
    }

    func testAPidfileWhoseDirectoryIsAFileNamesThePidfile() throws {
        let directory = ServerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/file"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--pidfile", file + "/x.pid"])
        XCTAssertEqual(try XCTUnwrap(server.waitForExit()).code, 1, server.log)
        XCTAssertTrue(server.log.contains("pidfile \(file)/x.pid cannot be created in \(file)"), server.log)
        XCTAssertTrue(server.log.contains("ENOTDIR (Not a directory)"), server.log)
    }

    /// The control socket goes beside the pidfile: a path too long for a unix socket is refused
    /// before binding, not a crash in building the socket address.
    func testAPidfilePathTooLongForTheControlSocketIsRefusedBeforeBinding() throws {
        let directory = ServerProcess.temporaryDirectory() + "/" + String(repeating: "d", count: 100)
        XCTAssertEqual(mkdir(directory, 0o755), 0)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--pidfile", directory + "/x.pid"])
        let exit = try XCTUnwrap(server.waitForExit())
        XCTAssertEqual(exit.code, 1, "\(exit); log:\n\(server.log)")
        XCTAssertTrue(server.log.contains("control socket \(directory)/x.sock: its temporary name"), server.log)
        XCTAssertTrue(server.log.contains("choose a shorter --pidfile path"), server.log)
        XCTAssertTrue(server.lines(containing: "msg=listening").isEmpty, server.log)
    }

    /// Whatever the master fails on, the first line the operator reads is the error, not an info line.
    func testTheFirstLineOfAFailedStartIsTheError() throws {
        let directory = ServerProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for arguments in [
            ["--pidfile", "/nonexistent-dir/x.pid", "--bind", "127.0.0.1:0"],
            ["--bind", "unix:\(directory)/missing/echo.sock"],
        ] {
            let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--health-interval", "0"] + arguments)
            XCTAssertEqual(try XCTUnwrap(server.waitForExit()).code, 1, "\(arguments): \(server.log)")
            let first = server.log.split(separator: "\n").first.map(String.init) ?? ""
            XCTAssertTrue(first.contains("level=error"), "\(arguments): first line \(first); log:\n\(server.log)")
            XCTAssertTrue(first.contains("ENOENT"), "\(arguments): first line \(first)")
        }
    }
}
