import Foundation
import Glibc
import TestSupport
import XCTest

/// SIGHUP re-reads the config file: a valid one is applied in a new generation (worker count,
/// binds added and removed), a broken one is refused with its file:line and nothing changes.
final class ReloadTests: XCTestCase {
    func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    func testHUPAppliesANewConfigFileAndRefusesABrokenOne() throws {
        let directory = ServerProcess.temporaryDirectory()
        let config = directory + "/supervisor.conf"
        let unixPath = directory + "/added.sock"
        try write("workers = 1\nbind = 127.0.0.1:0\nhealth-interval = 0\n", to: config)
        let server = try ServerProcess(["start", "--config", config])
        defer { server.stop() }
        let port = server.port()
        server.waitForLog("msg=\"generation ready\"", "generation=1", "cause=start")
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/hello/one").text, "Hello, one")

        // A second worker, a new address and a new setting, all in one reload, under traffic.
        let stream = RequestStream(port: port)
        try write("workers = 2\nbind = 127.0.0.1:0\nbind = unix:\(unixPath)\nhealth-interval = 0\nmax-requests = 1000000\n", to: config)
        server.signal(SIGHUP)
        let settled = server.waitForLog("msg=\"generation ready\"", "generation=2", "workers=2", "cause=reload")
        XCTAssertFalse(settled.isEmpty)
        server.waitForLog("msg=\"worker exited\"", "generation=1", "reason=retired")
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { server.workerPIDs.count == 2 }, "two workers of generation 2 once the old one is gone")
        XCTAssertEqual(try HTTPTestClient.get(try EchoClient(unixPath: unixPath), "/hello/unix").text, "Hello, unix")
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/hello/tcp").text, "Hello, tcp", "the kept address is the same socket")

        // A typo: refused with file:line, the running generation stays and keeps serving.
        try write("workers = 3\nbind = 127.0.0.1:0\nwokers = 3\n", to: config)
        server.signal(SIGHUP)
        let refusal = server.waitForLog("msg=\"reload rejected: the configuration is invalid; the running one stays in force\"")
        XCTAssertTrue(refusal.first?.contains("\(config):3: unknown key 'wokers'") ?? false, refusal.first ?? "")
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/hello/still").text, "Hello, still")
        XCTAssertTrue(server.lines(containing: "generation=3").isEmpty, "no new generation for a refused file")

        // The unix address removed: no longer listening there, its file gone; TCP untouched.
        try write("workers = 1\nbind = 127.0.0.1:0\nhealth-interval = 0\n", to: config)
        server.signal(SIGHUP)
        server.waitForLog("msg=\"no longer listening\"", "addr=unix:\(unixPath)")
        server.waitForLog("msg=\"generation ready\"", "generation=3", "workers=1")
        XCTAssertFalse(FileManager.default.fileExists(atPath: unixPath))
        XCTAssertThrowsError(try EchoClient(unixPath: unixPath))
        let (succeeded, failures) = stream.finish()
        XCTAssertEqual(failures, [], "no request failed across three reloads")
        XCTAssertGreaterThan(succeeded, 0)

        server.signal(SIGTERM)
        XCTAssertEqual(server.waitForExit()?.code, 0)
    }

    func testAnAddressThatCannotBeBoundRefusesTheWholeReload() throws {
        let directory = ServerProcess.temporaryDirectory()
        let config = directory + "/supervisor.conf"
        let blocker = try EchoListener()
        try write("workers = 1\nbind = 127.0.0.1:0\nhealth-interval = 0\n", to: config)
        let server = try ServerProcess(["start", "--config", config])
        defer { server.stop() }
        let port = server.port()
        server.waitForLog("msg=\"generation ready\"", "generation=1")
        // The blocker holds the port without SO_REUSEPORT, so our bind fails with EADDRINUSE.
        try write("workers = 2\nbind = 127.0.0.1:0\nbind = 127.0.0.1:\(blocker.port)\n", to: config)
        server.signal(SIGHUP)
        let lines = server.waitForLog("msg=\"reload rejected: cannot listen on a new address")
        XCTAssertTrue(lines.first?.contains("EADDRINUSE") ?? false, lines.first ?? "")
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/hello/x").text, "Hello, x")
        XCTAssertTrue(server.lines(containing: "generation=2").isEmpty)
        XCTAssertEqual(server.workerPIDs.count, 1)
    }

    /// A reload that removes an address makes it refuse new connections, but a handshake already
    /// under way on it lands in its queue up to a round trip later (more if its ACK is lost). The
    /// old worker, the socket's last holder, must still accept it then, or it is reset when the
    /// worker drains and closes the socket: so the new generation, whose readiness retires the
    /// old one, waits for those handshakes. Held open here with `TCP_DEFER_ACCEPT` until the
    /// client's first bytes, which the test sends only once the reload waits.
    func testAHandshakeUnderWayOnARemovedAddressIsServed() throws {
        let (server, client) = try startReloadRemovingAnAddressWithAHandshakeUnderWay()
        defer { server.stop() }
        XCTAssertTrue(server.lines(containing: "msg=\"reloading: replacing every worker\"").isEmpty, "no new generation while it waits")
        try client.send("GET /hello/late HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200, response.head)
        XCTAssertEqual(response.text, "Hello, late")
        server.waitForLog("msg=\"generation ready\"", "generation=2", "cause=reload")
        XCTAssertFalse(server.log.contains("still under way"), server.log)
    }

    /// A client that never finishes its handshake holds the reload up for the wait's limit only.
    func testAReloadWaitsForAHandshakeThatNeverEndsOnlySoLong() throws {
        let (server, client) = try startReloadRemovingAnAddressWithAHandshakeUnderWay()
        defer { server.stop() }
        server.waitForLog("msg=\"handshakes still under way on removed addresses at the wait's limit; reloading without them\"", "handshakes=1")
        server.waitForLog("msg=\"generation ready\"", "generation=2", "cause=reload")
        client.abort()
    }

    /// A stop during the wait drains at once, waiting for the removed address's handshake as for
    /// its own, and starts no generation.
    func testAStopDuringTheReloadsWaitStartsNoGeneration() throws {
        let (server, client) = try startReloadRemovingAnAddressWithAHandshakeUnderWay()
        defer { server.stop() }
        server.signal(SIGTERM)
        server.waitForLog("msg=\"waiting for handshakes under way\"", "handshakes=1")
        try client.send("GET /hello/late HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "Hello, late")
        XCTAssertEqual(server.waitForExit()?.code, 0)
        XCTAssertTrue(server.lines(containing: "generation=2").isEmpty, server.log)
    }

    /// A server listening on a socket passed in with its handshakes held open, and on a second
    /// address; a client connected to the first (its connect returns at the SYN-ACK); then a
    /// reload that removes the first, once the master says it waits for that handshake.
    private func startReloadRemovingAnAddressWithAHandshakeUnderWay() throws -> (ServerProcess, EchoClient) {
        let config = ServerProcess.temporaryDirectory() + "/supervisor.conf"
        let server: ServerProcess
        let port: UInt16
        do {
            let listener = try EchoListener()
            listener.holdHandshakesOpen()
            port = listener.port
            try write("workers = 1\nbind = 127.0.0.1:\(port)\nbind = 127.0.0.1:0\nhealth-interval = 0\n", to: config)
            server = try ServerProcess(["start", "--config", config], socketActivated: listener)
        }  // The test's copy is closed: the server holds the socket's only descriptors.
        server.waitForLog("msg=\"generation ready\"", "generation=1")
        let client = try EchoClient(port: port, timeout: ServerProcess.deadline)
        try write("workers = 1\nbind = 127.0.0.1:0\nhealth-interval = 0\n", to: config)
        server.signal(SIGHUP)
        server.waitForLog("msg=\"reloading once the handshakes under way on removed addresses land\"", "handshakes=1")
        return (server, client)
    }

    func testScalingDownLosesNoConnectionWaitingInTheAcceptQueue() throws {
        let server = try ServerProcess(["start", "--workers", "2", "--bind", "127.0.0.1:0", "--health-interval", "0"])
        defer { server.stop() }
        let port = server.port()
        server.waitForReady(2)
        let workers = server.workerPIDs
        XCTAssertEqual(workers.count, 2)
        // With both workers stopped, new connections complete their handshake and wait in the
        // listening socket's queue; then one worker is retired while they wait.
        for worker in workers { kill(worker, SIGSTOP) }
        let clients = try (0..<40).map { _ in try EchoClient(port: port, timeout: 30) }
        for (index, client) in clients.enumerated() {
            try client.send("GET /hello/q\(index) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        }
        server.signal(SIGTTOU)
        server.waitForLog("msg=scaling", "from=2", "to=1")
        for worker in workers { kill(worker, SIGCONT) }
        server.waitForLog("msg=\"worker exited\"", "reason=retired")
        // Every queued connection is answered, by whichever worker remains.
        for (index, client) in clients.enumerated() {
            let text = String(decoding: try client.receiveAll(), as: UTF8.self)
            XCTAssertTrue(text.hasPrefix("HTTP/1.1 200 OK") && text.hasSuffix("Hello, q\(index)"), "connection \(index): \(text)")
        }
    }

    func testMaxRequestsRecyclesWorkersWithoutFailingARequest() throws {
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0",
                                        "--max-requests", "25", "--max-requests-jitter", "5"])
        defer { server.stop() }
        let port = server.port()
        server.waitForReady(1)
        let first = server.workerPIDs
        // Requests one after another until three workers have been recycled: an old worker serves
        // on until its successor is ready, so how many each one takes depends on the machine's load.
        var index = 0
        while server.lines(containing: "msg=\"recycling worker\"").count < 3 && index < 5000 {
            let response = try HTTPTestClient.get(port: port, "/hello/\(index)")
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.text, "Hello, \(index)")
            index += 1
        }
        let recycled = server.waitForLog("msg=\"recycling worker\"", "reason=max-requests", count: 3)
        XCTAssertGreaterThanOrEqual(recycled.count, 3)
        server.waitForLog("msg=\"worker exited\"", "reason=retired", count: 3)
        XCTAssertNotEqual(server.workerPIDs, first)
        XCTAssertEqual(server.lines(containing: "reason=crashed").count, 0)
        let limits = server.lines(containing: "msg=\"max requests reached").compactMap { line in
            line.range(of: " limit=").flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) }
        }
        XCTAssertFalse(limits.isEmpty)
        XCTAssertTrue(limits.allSatisfy { (25...30).contains($0) }, "limit = max-requests + 0...jitter: \(limits)")
    }
}

/// A plain listening socket on 127.0.0.1 without SO_REUSEPORT: binds that collide with it fail.
final class EchoListener {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            throw EchoClient.Failure(description: "listen: errno \(errno)")
        }
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }

    /// From now on the kernel keeps a connection's handshake open (`SYN_RECV`) until the client's
    /// first bytes (`TCP_DEFER_ACCEPT`): a handshake under way for as long as a test needs.
    func holdHandshakesOpen() {
        XCTAssertTrue(TestSupport.holdHandshakesOpen(on: fd), "setsockopt(TCP_DEFER_ACCEPT): errno \(errno)")
    }
}

extension ServerProcess {
    /// A server given `listener` as systemd would (`LISTEN_FDS`; the shell execs the binary, so
    /// `LISTEN_PID` names the process that serves).
    convenience init(_ arguments: [String], socketActivated listener: EchoListener) throws {
        try self.init(arguments, environment: ["LISTEN_FDS": "1", "LISTEN_FDNAMES": "http"],
                      launcher: ["/bin/sh", "-c", "LISTEN_PID=$$ exec \"$0\" \"$@\""], passing: [(listener.fd, 3)])
    }
}
