import HTTPServer
import Posix
import XCTest

final class ForwardedTests: XCTestCase {
    func ranges(_ list: [String]) throws -> [AddressRange] { try list.map { try AddressRange(parsing: $0) } }

    func testRangesMatch() throws {
        let net = try AddressRange(parsing: "10.0.0.0/8")
        XCTAssertTrue(net.contains("10.1.2.3"))
        XCTAssertFalse(net.contains("11.0.0.1"))
        XCTAssertTrue(net.contains("::ffff:10.9.9.9"), "IPv4-mapped IPv6")
        XCTAssertTrue(try AddressRange(parsing: "127.0.0.1").contains("127.0.0.1"))
        XCTAssertFalse(try AddressRange(parsing: "127.0.0.1").contains("127.0.0.2"))
        XCTAssertTrue(try AddressRange(parsing: "fd00::/8").contains("fd12::1"))
        XCTAssertFalse(try AddressRange(parsing: "fd00::/8").contains("fe80::1"))
        XCTAssertTrue(try AddressRange(parsing: "192.168.1.0/23").contains("192.168.0.200"))
        XCTAssertTrue(try AddressRange(parsing: "*").contains("8.8.8.8"))
        XCTAssertFalse(net.contains("not-an-ip"))
        for bad in ["", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0/8", "::1/129", "host.example", "10.0.0.0/8/8"] {
            XCTAssertThrowsError(try AddressRange(parsing: bad), bad)
        }
    }

    func testClientAddressFromTrustedProxiesOnly() throws {
        let trusted = try ranges(["127.0.0.1", "10.0.0.0/8"])
        XCTAssertEqual(ForwardedFor.client(peer: "127.0.0.1", forwardedFor: ["203.0.113.7"], trusted: trusted), "203.0.113.7")
        XCTAssertEqual(ForwardedFor.client(peer: "198.51.100.1", forwardedFor: ["203.0.113.7"], trusted: trusted), "198.51.100.1",
                       "an untrusted peer's header is ignored")
        XCTAssertEqual(ForwardedFor.client(peer: "127.0.0.1", forwardedFor: ["6.6.6.6, 203.0.113.7, 10.1.1.1"], trusted: trusted), "203.0.113.7",
                       "right to left, skipping our own proxies; the spoofed leftmost entry is not believed")
        XCTAssertEqual(ForwardedFor.client(peer: "127.0.0.1", forwardedFor: ["203.0.113.7", "10.1.1.1"], trusted: trusted), "203.0.113.7",
                       "several header lines are one list")
        XCTAssertEqual(ForwardedFor.client(peer: "127.0.0.1", forwardedFor: ["garbage"], trusted: trusted), "127.0.0.1")
        XCTAssertEqual(ForwardedFor.client(peer: "127.0.0.1", forwardedFor: [], trusted: trusted), "127.0.0.1")
        XCTAssertEqual(ForwardedFor.client(peer: "unix", forwardedFor: ["203.0.113.7"], trusted: []), "203.0.113.7",
                       "a proxy on a unix socket is a local process: believed, like loopback")
    }

    func testQueueTimeFromATrustedProxysRequestStart() throws {
        let trusted = try ranges(["127.0.0.1"])
        let now = 1_700_000_010.5
        func queue(_ header: String?, peer: String = "127.0.0.1") -> Double? {
            RequestStart.queueSeconds(peer: peer, header: header, trusted: trusted, now: now)
        }
        XCTAssertEqual(try XCTUnwrap(queue("t=1700000010.250")), 0.25, accuracy: 1e-6, "nginx's t=${msec}: seconds")
        XCTAssertEqual(try XCTUnwrap(queue("t=1700000010000")), 0.5, accuracy: 1e-6, "Heroku's milliseconds")
        XCTAssertEqual(try XCTUnwrap(queue("t=1700000010000000")), 0.5, accuracy: 1e-6, "microseconds")
        XCTAssertEqual(try XCTUnwrap(queue("1700000009")), 1.5, accuracy: 1e-6, "t= may be absent")
        XCTAssertEqual(queue("t=1700000099.0"), 0, "a stamp from a clock ahead of ours is 0, not negative")
        XCTAssertNil(queue("t=1700000010.250", peer: "203.0.113.9"), "an untrusted peer's stamp is not believed")
        for garbage in ["", "t=", "t=abc", "t=1.2.3", "t=-5", "t=1e9", "t=" + String(repeating: "9", count: 30)] {
            XCTAssertNil(queue(garbage), garbage)
        }
        XCTAssertNil(queue(nil))
    }

    func testSchemeFromTrustedProxiesOnly() throws {
        let trusted = try ranges(["127.0.0.1"])
        XCTAssertEqual(ForwardedFor.scheme(peer: "127.0.0.1", forwardedProto: "https", trusted: trusted), "https")
        XCTAssertEqual(ForwardedFor.scheme(peer: "127.0.0.1", forwardedProto: " HTTPS ", trusted: trusted), "https")
        XCTAssertEqual(ForwardedFor.scheme(peer: "8.8.8.8", forwardedProto: "https", trusted: trusted), "http")
        XCTAssertEqual(ForwardedFor.scheme(peer: "127.0.0.1", forwardedProto: "gopher", trusted: trusted), "http")
    }
}
