import Foundation
import Glibc
import TestSupport
import XCTest

@testable import Posix

/// Counting the handshakes a stop waits for, with the kernel's own answer.
final class HandshakesInFlightTests: XCTestCase {
    /// A handshake the kernel holds open (`TCP_DEFER_ACCEPT` waits for data) is counted on its
    /// port, and on no other, until the client's first byte; then no more.
    func testCountsAHandshakeHeldOpenUntilItCompletes() throws {
        let listener = try Socket.listen(on: .ipv4(host: "127.0.0.1", port: 0), backlog: 8)
        defer { listener.close() }
        try holdHandshakesOpen(listener)
        let port = try XCTUnwrap(Socket.localAddress(of: listener).port)
        XCTAssertEqual(try HandshakesInFlight.count(onPorts: [port]), 0, "nothing under way yet")
        let client = try Socket.connect(to: .ipv4(host: "127.0.0.1", port: port))
        defer { client.close() }
        XCTAssertEqual(try HandshakesInFlight.count(onPorts: [port]), 1)
        XCTAssertEqual(try HandshakesInFlight.count(onPorts: [port &+ 1]), 0, "another port's")
        XCTAssertEqual(try HandshakesInFlight.count(onPorts: []), 0)
        var byte: UInt8 = 0x47
        XCTAssertEqual(send(client.rawValue, &byte, 1, 0), 1)
        let deadline = Date().addingTimeInterval(30)
        while try HandshakesInFlight.count(onPorts: [port]) != 0 && Date() < deadline { usleep(1000) }
        XCTAssertEqual(try HandshakesInFlight.count(onPorts: [port]), 0, "completed: in the queue now")
    }

    /// The kernel then keeps a handshake open (`SYN_RECV`) until the client's first bytes.
    func holdHandshakesOpen(_ listener: FileDescriptor) throws {
        XCTAssertTrue(TestSupport.holdHandshakesOpen(on: listener.rawValue), "setsockopt(TCP_DEFER_ACCEPT): errno \(errno)")
    }

    /// The same over IPv6, which the kernel dumps as a family of its own.
    func testCountsAnIPv6Handshake() throws {
        guard let listener = try? Socket.listen(on: .ipv6(host: "::1", port: 0), backlog: 8) else {
            throw XCTSkip("no IPv6 loopback here")
        }
        defer { listener.close() }
        try holdHandshakesOpen(listener)
        let port = try XCTUnwrap(Socket.localAddress(of: listener).port)
        let client = try Socket.connect(to: .ipv6(host: "::1", port: port))
        defer { client.close() }
        XCTAssertEqual(try HandshakesInFlight.count(onPorts: [port]), 1)
    }
}
