import HTTPServer
import XCTest

final class ProxyProtocolTests: XCTestCase {
    func parse(_ bytes: [UInt8]) -> ProxyProtocol.Result {
        bytes.withUnsafeBytes { ProxyProtocol.parse($0) }
    }

    func parse(_ text: String) -> ProxyProtocol.Result { parse(Array(text.utf8)) }

    static func v2(command: UInt8 = 1, family: UInt8, addresses: [UInt8]) -> [UInt8] {
        [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20 | command, family << 4 | 1,
         UInt8(addresses.count >> 8), UInt8(addresses.count & 0xff)] + addresses
    }

    func testVersion1() {
        let line = "PROXY TCP4 203.0.113.7 198.51.100.1 56324 443\r\n"
        XCTAssertEqual(parse(line + "GET / HTTP/1.1\r\n"), .header(length: line.utf8.count, source: "203.0.113.7"))
        XCTAssertEqual(parse("PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n"), .header(length: 40, source: "2001:db8::1"))
        XCTAssertEqual(parse("PROXY UNKNOWN\r\n"), .header(length: 15, source: nil))
        XCTAssertEqual(parse("PROXY TCP4 203.0.113.7 198.51"), .needMore, "split mid-line")
        XCTAssertEqual(parse("PRO"), .needMore)
        for bad in ["GET / HTTP/1.1\r\n", "PROXY TCP4 1.2.3 4.5.6.7 1 2\r\n", "PROXY TCP4 1.2.3.4 4.5.6.7 1 99999\r\n",
                    "PROXY TCP4 1.2.3.4 4.5.6.7 1 2\n", "PROXY TCP5 1.2.3.4 4.5.6.7 1 2\r\n", "PROXY TCP4 ::1 ::2 1 2\r\n",
                    "PROXY " + String(repeating: "x", count: 120)] {
            guard case .invalid = parse(bad) else { return XCTFail("accepted \(bad.debugDescription)") }
        }
    }

    func testVersion2() {
        let v4 = Self.v2(family: 1, addresses: [203, 0, 113, 7, 198, 51, 100, 1, 0xDB, 0x04, 0x01, 0xBB])
        XCTAssertEqual(parse(v4 + Array("GET".utf8)), .header(length: 28, source: "203.0.113.7"))
        let v6 = Self.v2(family: 2, addresses: [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1] + Array(repeating: 0, count: 20))
        XCTAssertEqual(parse(v6), .header(length: 52, source: "2001:db8::1"))
        XCTAssertEqual(parse(Self.v2(command: 0, family: 0, addresses: [])), .header(length: 16, source: nil), "LOCAL")
        XCTAssertEqual(parse(Array(v4.prefix(20))), .needMore)
        XCTAssertEqual(parse(Array(v4.prefix(5))), .needMore)
        var badVersion = v4
        badVersion[12] = 0x11
        guard case .invalid = parse(badVersion) else { return XCTFail("accepted version 1 in a v2 header") }
        guard case .invalid = parse(Self.v2(family: 1, addresses: [1, 2, 3])) else { return XCTFail("accepted a short IPv4 block") }
        guard case .invalid = parse([0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0B]) else {
            return XCTFail("accepted a bad signature")
        }
    }
}
