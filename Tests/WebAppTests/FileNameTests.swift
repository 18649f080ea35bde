import HTTPServer
import WebApp
import XCTest

final class FileNameTests: XCTestCase {
    func testAcceptsPlainAndEncodedNames() throws {
        XCTAssertEqual(try FileName(decoding: "report.pdf").value, "report.pdf")
        XCTAssertEqual(try FileName(decoding: "my%20file.txt").value, "my file.txt")
        XCTAssertEqual(try FileName(decoding: "caf%C3%A9").value, "café")
        XCTAssertEqual(try FileName(decoding: "a..b").value, "a..b", "dots inside a name are fine")
    }

    func testRefusesTraversalAndOddNames() {
        let cases: [(Substring, FileName.Problem)] = [
            ("", .empty), ("..", .hidden), (".", .hidden), (".hidden", .hidden), ("%2e%2e", .hidden), ("%2E%2e", .hidden),
            ("a%2Fb", .separator), ("a%2fb", .separator), ("..%2F..%2Fetc%2Fpasswd", .hidden), ("a%5Cb", .separator),
            ("a%00b", .control), ("a%0Ab", .control), ("%", .badEncoding), ("%4", .badEncoding), ("%zz", .badEncoding),
            ("%C3", .badEncoding), (Substring(String(repeating: "x", count: 256)), .tooLong),
        ]
        for (segment, problem) in cases {
            XCTAssertThrowsError(try FileName(decoding: segment), String(segment)) { error in
                XCTAssertEqual(error as? FileName.Problem, problem, String(segment))
            }
        }
    }

    func testPercentDecodingIsStrict() {
        XCTAssertEqual(PercentDecoding.decode("%41%42c"), "ABc")
        XCTAssertEqual(PercentDecoding.decode("%e2%82%ac"), "€")
        XCTAssertNil(PercentDecoding.decode("%ff"), "not UTF-8")
        XCTAssertNil(PercentDecoding.decode("abc%"))
    }

    func testContentTypes() {
        XCTAssertEqual(ContentType.forFile(named: "index.HTML"), "text/html; charset=utf-8")
        XCTAssertEqual(ContentType.forFile(named: "photo.jpeg"), "image/jpeg")
        XCTAssertEqual(ContentType.forFile(named: "archive.tar.gz"), "application/gzip")
        XCTAssertEqual(ContentType.forFile(named: "README"), "application/octet-stream")
        XCTAssertEqual(ContentType.forFile(named: "noext."), "application/octet-stream")
    }
}
