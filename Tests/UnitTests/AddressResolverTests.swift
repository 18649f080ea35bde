import Posix
import XCTest

/// `getaddrinfo` behind Posix: names from /etc/hosts and numeric hosts, no duplicates, and a
/// failure that names the host (never a crash or an empty list). No DNS server is asked.
final class AddressResolverTests: XCTestCase {
    func testLocalhostResolvesToLoopbackWithThePort() throws {
        let addresses = try AddressResolver.resolve(host: "localhost", port: 8080)
        XCTAssertFalse(addresses.isEmpty)
        XCTAssertTrue(addresses.allSatisfy { $0.port == 8080 && ($0.host == "127.0.0.1" || $0.host == "::1") }, "\(addresses)")
        XCTAssertEqual(Set(addresses).count, addresses.count, "no duplicates")
    }

    func testNumericHostsNeedNoLookup() throws {
        XCTAssertEqual(try AddressResolver.resolve(host: "::1", port: 80), [.ipv6(host: "::1", port: 80)])
        XCTAssertEqual(try AddressResolver.resolve(host: "192.0.2.7", port: 1), [.ipv4(host: "192.0.2.7", port: 1)])
    }

    func testAnEmptyOrNULHostIsRefusedWithItsName() {
        for host in ["", "a\u{0}b"] {
            XCTAssertThrowsError(try AddressResolver.resolve(host: host, port: 80)) { error in
                XCTAssertTrue("\(error)".hasPrefix("getaddrinfo("), "\(error)")
            }
        }
    }
}
