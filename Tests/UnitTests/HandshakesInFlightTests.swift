import Foundation
import Glibc
import XCTest

@testable import Posix

/// Counting the handshakes a stop waits for, in `/proc/net/tcp`'s text as the kernel writes it.
final class HandshakesInFlightTests: XCTestCase {
    // A listener on 8080 (1F90) and 8081 (1F91), one connection established on each, two
    // handshakes under way (03) on 8080 and one on 8081, and an outgoing connection from a port
    // that is not ours to a remote 8080 in SYN_SENT (02).
    let table = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11 1 0 100 0 0 10 0
           1: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12 1 0 100 0 0 10 0
           2: 0100007F:1F90 0100007F:D526 03 00000000:00000000 02:0000007D 00000000     0        0 0 1 0
           3: 0100007F:1F90 0100007F:D528 03 00000000:00000000 02:0000007D 00000000     0        0 0 1 0
           4: 0100007F:1F91 0100007F:D530 03 00000000:00000000 02:0000007D 00000000     0        0 0 1 0
           5: 0100007F:1F90 0100007F:D532 01 00000000:00000000 00:00000000 00000000     0        0 13 1 0 20 4 30 10 -1
           6: 0100007F:D540 0100007F:1F90 02 00000001:00000000 01:00000064 00000000     0        0 14 2 0 100 0 0 10 -1
        """

    func testCountsHandshakesUnderWayOnTheGivenPortsOnly() {
        XCTAssertEqual(HandshakesInFlight.count(in: Array(table.utf8), onPorts: [8080]), 2)
        XCTAssertEqual(HandshakesInFlight.count(in: Array(table.utf8), onPorts: [8080, 8081]), 3)
        XCTAssertEqual(HandshakesInFlight.count(in: Array(table.utf8), onPorts: [9000]), 0)
        XCTAssertEqual(HandshakesInFlight.count(in: Array(table.utf8), onPorts: []), 0)
    }

    func testReadsIPv6Rows() {
        let ipv6 = """
              sl  local_address                         remote_address                        st tx_queue rx_queue
               0: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:E2A4 03 00000000:00000000
            """
        XCTAssertEqual(HandshakesInFlight.count(in: Array(ipv6.utf8), onPorts: [8080]), 1)
    }

    func testRowsThatDoNotParseAreSkipped() {
        let broken = """
            0: 0100007F 00000000:0000 03
            1: 0100007F:XYZ1 00000000:0000 03
            2: 0100007F:1F90
            3: 0100007F:1F90 00000000:0000 3
            4: 0100007F:1F90 00000000:0000 0x
            5: 0100007F:11F90 00000000:0000 03
            """
        XCTAssertEqual(HandshakesInFlight.count(in: Array(broken.utf8), onPorts: [8080]), 0)
    }

    /// The real table: a handshake the kernel holds open (`TCP_DEFER_ACCEPT` waits for data)
    /// is counted until the client's first byte, then no more.
    func testSeesAHandshakeHeldOpenInTheKernelsTable() throws {
        let listener = try Socket.listen(on: .ipv4(host: "127.0.0.1", port: 0), backlog: 8)
        defer { listener.close() }
        var seconds: CInt = 30
        XCTAssertEqual(setsockopt(listener.rawValue, CInt(IPPROTO_TCP), TCP_DEFER_ACCEPT, &seconds, socklen_t(MemoryLayout<CInt>.size)), 0)
        let port = try XCTUnwrap(Socket.localAddress(of: listener).port)
        let client = try Socket.connect(to: .ipv4(host: "127.0.0.1", port: port))
        defer { client.close() }
        XCTAssertEqual(try HandshakesInFlight.count(onPorts: [port]), 1)
        var byte: UInt8 = 0x47
        XCTAssertEqual(send(client.rawValue, &byte, 1, 0), 1)
        let deadline = Date().addingTimeInterval(30)
        while try HandshakesInFlight.count(onPorts: [port]) != 0 && Date() < deadline { usleep(1000) }
        XCTAssertEqual(try HandshakesInFlight.count(onPorts: [port]), 0)
    }
}
