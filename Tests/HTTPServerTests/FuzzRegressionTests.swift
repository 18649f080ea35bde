import HTTPServer
import XCTest

/// Inputs that scripts/fuzz found; each test names the target and what the input broke.
final class FuzzRegressionTests: XCTestCase {
    func parse(_ bytes: [UInt8]) -> ProxyProtocol.Result {
        bytes.withUnsafeBytes { ProxyProtocol.parse($0) }
    }

    /// proxy-protocol: a NUL in a v1 address ended the C string inet_pton read, so
    /// `10.0.0.1<NUL><anything>` was accepted and the whole word, NUL and all, became the client's
    /// address (logged, matched against --forwarded-allow-ips).
    func testProxyV1AddressWithNUL() {
        for line in ["PROXY TCP4 10.0.0.1\0\0 10.0.0.2 1 80\r\n", "PROXY TCP4 10.0.0.1 10.0.0.2\0x 1 80\r\n",
                     "PROXY TCP6 ::1\0\u{1B}[31m ::2 1 80\r\n"] {
            guard case .invalid = parse(Array(line.utf8)) else { return XCTFail("accepted \(line.debugDescription)") }
        }
        XCTAssertEqual(parse(Array("PROXY TCP4 10.0.0.1 10.0.0.2 1 80\r\n".utf8)), .header(length: 35, source: "10.0.0.1"))
    }
}
