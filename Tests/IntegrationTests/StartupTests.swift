import Foundation
import Glibc
import XCTest

/// Starting up: flags, addresses, the pidfile, and the master's one thread.
final class StartupTests: XCTestCase {
    func testBadFlagsExitTwoWithOneLineNamingTheProblem() throws {
        for (arguments, mention) in [
            (["start", "--workers", "0"], "--workers"),
            (["start", "--bind", "nonsense"], "nonsense"),
            (["start", "--timeout", "soon"], "--timeout"),
            (["start", "--no-such-flag"], "--no-such-flag"),
            (["launch"], "launch"),
        ] {
            let server = try ServerProcess(arguments)
            let exit = try XCTUnwrap(server.waitForExit())
            XCTAssertEqual(exit.code, 2, "\(arguments)")
            let lines = server.log.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "one line for \(arguments): \(server.log)")
            XCTAssertTrue(server.log.contains(mention), "\(arguments): \(server.log)")
        }
    }

    func testHelpOnStartListsTheOptions() throws {
        let server = try ServerProcess(["start", "--help"])
        XCTAssertEqual(try XCTUnwrap(server.waitForExit()).code, 0)
        for option in ["--workers", "--bind", "--timeout", "--graceful-timeout", "--health-interval", "--pidfile", "--backlog"] {
            XCTAssertTrue(server.log.contains(option), option)
        }
    }

    func testAddressInUseFailsClearlyAndLeavesNoProcess() throws {
        // A plain listener without SO_REUSEPORT holds the port.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(holder, $0, length)
                _ = listen(holder, 1)
                _ = getsockname(holder, $0, &length)
            }
        }
        let port = UInt16(bigEndian: address.sin_port)
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "2", "--bind", "127.0.0.1:\(port)"])
        let exit = try XCTUnwrap(server.waitForExit())
        XCTAssertNotEqual(exit.code, 0)
        XCTAssertTrue(server.log.contains("EADDRINUSE"), server.log)
        XCTAssertTrue(server.log.contains("127.0.0.1:\(port)"), server.log)
        XCTAssertTrue(server.lines(containing: "worker spawned").isEmpty, "nothing forked before binding")
    }

    func testPidfileIsWrittenRefusesASecondMasterAndIsRemovedAtExit() throws {
        let directory = ServerProcess.temporaryDirectory()
        let pidfile = directory + "/supervisor.pid"
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--pidfile", pidfile, "--health-interval", "0"])
        server.waitForReady(1)
        let written = try String(contentsOfFile: pidfile, encoding: .utf8)
        XCTAssertEqual(written, "\(server.pid)\n")

        let second = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--pidfile", pidfile])
        XCTAssertEqual(try XCTUnwrap(second.waitForExit()).code, 1)
        XCTAssertTrue(second.log.contains("names process \(server.pid)"), second.log)
        XCTAssertEqual(try String(contentsOfFile: pidfile, encoding: .utf8), "\(server.pid)\n", "the running master's pidfile is untouched")

        server.signal(SIGTERM)
        XCTAssertEqual(try XCTUnwrap(server.waitForExit()).code, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: pidfile))
    }

    func testMasterHasExactlyOneThreadAndSharesItsPortWithReusePort() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "2", "--bind", "127.0.0.1:0", "--health-interval", "100ms"])
        let port = server.port()
        server.waitForReady(2)
        XCTAssertEqual(try EchoClient(port: port).echo("warm\n"), "warm\n")
        server.waitForLog("msg=health", count: 3)
        XCTAssertEqual(ServerProcess.threadCount(server.pid), 1, "the master must never start a thread")
        for worker in server.workerPIDs { XCTAssertEqual(ServerProcess.threadCount(worker), 1, "worker \(worker)") }

        // Another process (a new master during an upgrade) can bind the same port with SO_REUSEPORT.
        let other = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(other) }
        var one: Int32 = 1
        setsockopt(other, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(other, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(other, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(bound, 0, "bind with SO_REUSEPORT failed: errno \(errno)")
    }

    func testUnixSocketAndIPv6Listeners() throws {
        let directory = ServerProcess.temporaryDirectory()
        let path = directory + "/echo.sock"
        // A stale socket file from a dead server is replaced.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(stale)
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "unix:\(path)", "--bind", "[::1]:0", "--health-interval", "0"])
        server.waitForReady(1)
        server.waitForLog("msg=listening", "addr=unix:\(path)")
        server.waitForLog("msg=listening", "addr=[::1]:")
        let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(connected, 0)
        XCTAssertEqual(send(client, "over unix\n", 10, 0), 10)
        var buffer = [UInt8](repeating: 0, count: 10)
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        XCTAssertEqual(recv(client, &buffer, 10, Int32(MSG_WAITALL)), 10)
        XCTAssertEqual(String(decoding: buffer, as: UTF8.self), "over unix\n")
        // Closed first: a stop keeps an echo conversation going until the client closes it.
        close(client)

        server.signal(SIGTERM)
        XCTAssertEqual(try XCTUnwrap(server.waitForExit()).code, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "the socket file is removed at exit")
    }

    func testALiveUnixSocketIsNotTakenOver() throws {
        let path = ServerProcess.temporaryDirectory() + "/live.sock"
        let first = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "unix:\(path)", "--health-interval", "0"])
        first.waitForReady(1)
        let second = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "unix:\(path)"])
        XCTAssertEqual(try XCTUnwrap(second.waitForExit()).code, 1)
        XCTAssertTrue(second.log.contains("a live server answers there"), second.log)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path), "the live server's socket file is left alone")
        XCTAssertTrue(ServerProcess.isAlive(first.pid))
    }
}

/// `--config` with the real binary.
final class ConfigFileStartTests: XCTestCase {
    func testABadConfigFileStopsTheStartNamingFileAndLine() throws {
        let path = ServerProcess.temporaryDirectory() + "/bad.conf"
        try "workers = 2\ntimeout = soon\n".write(toFile: path, atomically: true, encoding: .utf8)
        let server = try ServerProcess(["start", "--config", path])
        XCTAssertEqual(try XCTUnwrap(server.waitForExit()).code, 2)
        XCTAssertTrue(server.log.contains("\(path):2: invalid value for timeout"), server.log)
        XCTAssertTrue(server.lines(containing: "worker spawned").isEmpty)
    }

    func testTheConfigFileIsUsed() throws {
        let path = ServerProcess.temporaryDirectory() + "/good.conf"
        try "app = echo\nworkers = 2\nbind = 127.0.0.1:0\nhealth-interval = 0\n".write(toFile: path, atomically: true, encoding: .utf8)
        let server = try ServerProcess(["start", "--config", path])
        let port = server.port()
        server.waitForReady(2)
        XCTAssertEqual(try EchoClient(port: port).echo("configured\n"), "configured\n")
    }
}
