import Posix
import XCTest

/// Listen addresses as users write them: numeric only, strict, and printed back the same way.
final class SocketAddressTests: XCTestCase {
    struct Accepted: Error {}

    func parse(_ text: String) throws -> SocketAddress { try SocketAddress(parsing: text) }

    /// The parse error for `text`, failing the test when it parses.
    func rejection(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> SocketAddress.ParseError {
        let address: SocketAddress
        do {
            address = try SocketAddress(parsing: text)
        } catch {
            return error
        }
        XCTFail("'\(text)' was accepted as \(address)", file: file, line: line)
        throw Accepted()
    }

    // MARK: Accepted

    func testIPv4() throws {
        XCTAssertEqual(try parse("127.0.0.1:80"), .ipv4(host: "127.0.0.1", port: 80))
        XCTAssertEqual(try parse("0.0.0.0:0"), .ipv4(host: "0.0.0.0", port: 0))
        XCTAssertEqual(try parse("255.255.255.255:65535"), .ipv4(host: "255.255.255.255", port: 65535))
        XCTAssertEqual(try parse("127.0.0.1:80").port, 80)
        XCTAssertFalse(try parse("127.0.0.1:80").isUnix)
    }

    func testLocalhostMeansTheLoopbackAddress() throws {
        XCTAssertEqual(try parse("localhost:80"), .ipv4(host: "127.0.0.1", port: 80))
        XCTAssertEqual(try parse("localhost:80"), try parse("127.0.0.1:80"))
        XCTAssertEqual(try parse("*:80"), .ipv4(host: "0.0.0.0", port: 80))
    }

    func testIPv6InBrackets() throws {
        XCTAssertEqual(try parse("[::1]:8080"), .ipv6(host: "::1", port: 8080))
        XCTAssertEqual(try parse("[::]:0"), .ipv6(host: "::", port: 0))
        XCTAssertEqual(try parse("[2001:db8::42]:443"), .ipv6(host: "2001:db8::42", port: 443))
        XCTAssertEqual(try parse("[::1]:8080").port, 8080)
    }

    func testUnixPath() throws {
        let address = try parse("unix:/tmp/x.sock")
        XCTAssertEqual(address, .unix(path: "/tmp/x.sock"))
        XCTAssertTrue(address.isUnix)
        XCTAssertNil(address.port)
        XCTAssertEqual(try parse("unix:./x.sock"), .unix(path: "./x.sock"))
    }

    func testTheLongestUnixPathThatFitsSunPath() throws {
        // sun_path is 108 bytes on Linux, and needs its terminating NUL.
        let longest = "/" + String(repeating: "a", count: 106)
        XCTAssertEqual(try parse("unix:" + longest), .unix(path: longest))
        let tooLong = longest + "a"
        XCTAssertTrue(try rejection("unix:" + tooLong).reason.contains("too long"))
    }

    // MARK: Rejected

    func testRejections() throws {
        let cases = [
            "nonsense", "", ":", "1.2.3:80", "1.2.3.4.5:80", "256.0.0.1:80", "127.0.0.1:65536", "127.0.0.1:", ":80",
            "127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1:8o", "127.0.0.1: 80", "127.0.0.1:000080", "example.com:80",
            "[::1", "[::1]", "[::1]:", "[]:80", "[nonsense]:80", "[127.0.0.1]:80", "::1:80", "::1", "unix:relative",
            "unix:", "unix:/tmp/a\u{0}b", "localhost", "127.0.0.1",
        ]
        for text in cases {
            let error = try rejection(text)
            XCTAssertEqual(error.input, text)
            XCTAssertTrue(error.description.contains("'\(text)'"), error.description)
            XCTAssertFalse(error.reason.isEmpty)
        }
    }

    func testRejectionReasonsSayWhatIsWrong() throws {
        XCTAssertTrue(try rejection("127.0.0.1:65536").reason.contains("port"))
        XCTAssertTrue(try rejection(":80").reason.contains("host"))
        XCTAssertTrue(try rejection("::1:80").reason.contains("[ADDRESS]:PORT"), "an unbracketed IPv6 address is told how to write it")
        XCTAssertTrue(try rejection("unix:relative").reason.contains("absolute"))
    }

    // MARK: Printing

    func testDescriptionRoundTrips() throws {
        for text in ["127.0.0.1:80", "0.0.0.0:0", "10.1.2.3:65535", "[::1]:8080", "[2001:db8::42]:443", "unix:/tmp/x.sock", "unix:./rel.sock"] {
            let address = try parse(text)
            XCTAssertEqual(address.description, text)
            XCTAssertEqual(try parse(address.description), address)
        }
        XCTAssertEqual(try parse("localhost:8080").description, "127.0.0.1:8080")
    }

    /// A path made up elsewhere (the control socket beside a long pidfile path) that does not fit
    /// `sun_path` is an error naming it, never a crash.
    func testAUnixPathTooLongForTheKernelIsAnErrorNotACrash() {
        let path = "/tmp/" + String(repeating: "d", count: 200) + "/x.sock"
        XCTAssertThrowsError(try Socket.connect(to: .unix(path: path))) { error in
            XCTAssertTrue("\(error)".contains("ENAMETOOLONG"), "\(error)")
        }
    }
}
