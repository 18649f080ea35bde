import Foundation
import Glibc
import XCTest

/// `request.context`: the peer as connected and the client as believed, through trusted
/// `X-Forwarded-For` and the PROXY protocol, and the address the client connected to.
final class RequestContextTests: XCTestCase {
    /// `GET /context` on a fresh connection (after `prefix`, a PROXY header), as name → value.
    func context(_ port: UInt16, prefix: String = "", headers: [String] = []) throws -> (fields: [String: String], clientPort: UInt16) {
        let client = try EchoClient(port: port)
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(client.fd, $0, &length) } }
        XCTAssertEqual(named, 0)
        try client.send(prefix + "GET /context HTTP/1.1\r\nHost: x\r\n" + headers.map { $0 + "\r\n" }.joined() + "Connection: close\r\n\r\n")
        let reply = String(decoding: try client.receiveAll(), as: UTF8.self)
        XCTAssertTrue(reply.hasPrefix("HTTP/1.1 200"), reply)
        let body = reply.components(separatedBy: "\r\n\r\n").dropFirst().joined()
        var fields: [String: String] = [:]
        for line in body.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        return (fields, UInt16(bigEndian: local.sin_port))
    }

    func testThePeerAsConnectedAndTheClientAsBelieved() throws {
        let server = try ServerProcess(["start", "--app", "context", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0"],
                                       binary: "supervisor-fixture")
        let port = server.port()
        server.waitForReady(1)

        let (direct, clientPort) = try context(port)
        XCTAssertEqual(direct["peer"], "127.0.0.1")
        XCTAssertEqual(direct["peer-address"], "127.0.0.1:\(clientPort)", "the socket's peer, with its port")
        XCTAssertEqual(direct["local"], "127.0.0.1:\(port)", "the listener it came in on")
        XCTAssertEqual(direct["proxied"], "-")
        XCTAssertEqual(direct["client"], "127.0.0.1")
        XCTAssertEqual(direct["scheme"], "http")
        XCTAssertEqual(direct["draining"], "false")

        // Loopback is trusted by default: its X-Forwarded-For and -Proto are believed; the peer is still the peer.
        let forwarded = try context(port, headers: ["X-Forwarded-For: 203.0.113.9", "X-Forwarded-Proto: https"]).fields
        XCTAssertEqual(forwarded["peer"], "127.0.0.1")
        XCTAssertEqual(forwarded["client"], "203.0.113.9")
        XCTAssertEqual(forwarded["scheme"], "https")
    }

    func testAPROXYHeaderNamesTheClientAndItsForwardedForIsNotBelieved() throws {
        let server = try ServerProcess(["start", "--app", "context", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0",
                                        "--proxy-protocol"], binary: "supervisor-fixture")
        let port = server.port()
        server.waitForReady(1)
        let fields = try context(port, prefix: "PROXY TCP4 198.51.100.7 127.0.0.1 40000 8080\r\n",
                                 headers: ["X-Forwarded-For: 203.0.113.9", "X-Forwarded-Proto: https"]).fields
        XCTAssertEqual(fields["peer"], "127.0.0.1", "the socket's peer: the proxy")
        XCTAssertEqual(fields["proxied"], "198.51.100.7")
        XCTAssertEqual(fields["client"], "198.51.100.7", "198.51.100.7 is not a trusted proxy: its X-Forwarded-For is not believed")
        XCTAssertEqual(fields["scheme"], "http")
    }
}
