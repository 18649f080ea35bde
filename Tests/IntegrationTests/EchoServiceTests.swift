import Foundation
import Glibc
import XCTest

/// The line-echo service, over real sockets, against the real binary.
final class EchoServiceTests: XCTestCase {
    func testManyConcurrentClientsEachGetTheirOwnLinesBack() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "2", "--bind", "127.0.0.1:0", "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(2)
        let clients = try (0..<300).map { _ in try EchoClient(port: port) }
        for (index, client) in clients.enumerated() { try client.send("line \(index) from client\n") }
        for (index, client) in clients.enumerated() {
            let expected = "line \(index) from client\n"
            XCTAssertEqual(try client.receive(expected.utf8.count), expected)
        }
        // Several lines in one write, and one line split over several writes.
        let client = clients[0]
        XCTAssertEqual(try client.echo("a\nbb\nccc\n"), "a\nbb\nccc\n")
        try client.send("spl")
        try client.send("it li")
        try client.send("ne\n")
        XCTAssertEqual(try client.receive(11), "split line\n")
    }

    func testTenThousandConcurrentConnectionsHold() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "2", "--bind", "127.0.0.1:0", "--backlog", "4096", "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(2)
        var clients: [EchoClient] = []
        clients.reserveCapacity(10_000)
        for _ in 0..<10_000 { clients.append(try EchoClient(port: port, timeout: 30)) }
        for (index, client) in clients.enumerated() { try client.send("\(index)\n") }
        for (index, client) in clients.enumerated() {
            let expected = "\(index)\n"
            let got = try client.receive(expected.utf8.count)
            if got != expected { return XCTFail("connection \(index) got \(got.debugDescription)") }
        }
    }

    func testLineOverTheLimitGetsAnErrorLineAndTheConnectionCloses() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(1)
        let exact = try EchoClient(port: port)
        let longest = String(repeating: "x", count: 65535) + "\n"
        XCTAssertEqual(try exact.echo(longest).count, 65536, "a line of exactly 64 KiB (newline included) is echoed")

        let client = try EchoClient(port: port)
        var bytes = [UInt8](repeating: UInt8(ascii: "y"), count: 70_000)
        try client.send(bytes: &bytes)
        let expected = "error: line too long (limit 65536 bytes)\n"
        XCTAssertEqual(try client.receive(expected.utf8.count), expected)
        XCTAssertTrue(client.isClosedByPeer())
        // The worker is unharmed.
        XCTAssertEqual(try EchoClient(port: port).echo("still here\n"), "still here\n")
    }

    func testIdleConnectionIsClosedAfterIdleTimeout() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--idle-timeout", "500ms", "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(1)
        let client = try EchoClient(port: port, timeout: 15)
        XCTAssertEqual(try client.echo("hi\n"), "hi\n")
        let start = Date()
        XCTAssertTrue(client.isClosedByPeer(), "idle connection should be closed by the server")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.4)
    }

    func testClientVanishingMidLineCostsNothing() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "300ms"])
        let port = server.port()
        server.waitForReady(1)
        for _ in 0..<50 {
            let client = try EchoClient(port: port)
            try client.send("half a li")
            client.abort()
        }
        XCTAssertEqual(try EchoClient(port: port).echo("after\n"), "after\n")
        // The worker's open-connection count returns to the one we hold.
        let worker = try XCTUnwrap(server.workerPIDs.first)
        let holder = try EchoClient(port: port)
        XCTAssertEqual(try holder.echo("x\n"), "x\n")
        // Kept open while waiting: Swift may otherwise release (and close) it after its last use.
        _ = withExtendedLifetime(holder) { server.waitForLog("msg=health", "connections=1 ") }
        XCTAssertEqual(server.workerPIDs, [worker], "the worker did not crash")
        XCTAssertEqual(server.lines(containing: "worker exited").count, 0)
    }

    func testRunningOutOfDescriptorsPausesAcceptingAndRecovers() throws {
        // 64 descriptors: the worker runs out after a few dozen connections.
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0"], openFileLimit: 64)
        let port = server.port()
        server.waitForReady(1)
        var clients: [EchoClient] = []
        for _ in 0..<80 { clients.append(try EchoClient(port: port, timeout: 30)) }  // the kernel queue takes them all
        server.waitForLog("msg=\"accept paused: out of file descriptors\"", "EMFILE")
        let worker = try XCTUnwrap(server.workerPIDs.first)
        // Served connections still work; then freeing descriptors lets the queued ones in.
        XCTAssertEqual(try clients[0].echo("served\n"), "served\n")
        let queued = clients.removeLast()
        try queued.send("queued\n")
        clients.removeFirst(40)
        XCTAssertEqual(try queued.receive(7), "queued\n")
        XCTAssertEqual(server.workerPIDs, [worker], "the worker survived running out of descriptors")
    }

    func testBackPressureEchoesMegabytesExactlyAndInOrder() throws {
        let server = try ServerProcess(["start", "--app", "echo", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0"])
        let port = server.port()
        server.waitForReady(1)
        let client = try EchoClient(port: port, timeout: 30)
        // 4 MiB of numbered lines of varied length: far more than the socket buffers hold, so the
        // server's writes block and it must stop reading, then resume on the next edge.
        var payload: [UInt8] = []
        var index = 0
        while payload.count < 4 * 1024 * 1024 {
            payload += Array("\(index) \(String(repeating: "abcdefghij", count: index % 50))\n".utf8)
            index += 1
        }
        let sender = Thread { [payload] in
            var bytes = payload
            try? client.send(bytes: &bytes)
        }
        sender.start()
        let echoed = try client.receive(payload.count)
        XCTAssertEqual(echoed.utf8.count, payload.count)
        XCTAssertTrue(echoed.utf8.elementsEqual(payload), "the echo differs from what was sent")
    }
}
