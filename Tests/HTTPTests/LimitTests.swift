import XCTest

@testable import HTTP

/// The size limits: request line (414), header section and count (431), leading empty lines (400).
final class LimitTests: XCTestCase {
    /// A request whose request line is exactly `length` bytes, CRLF included.
    func request(lineLength length: Int) -> String {
        "GET /" + String(repeating: "a", count: length - 16) + " HTTP/1.1\r\nHost: a\r\n\r\n"
    }

    func testRequestLineAtTheLimitParsesAndOneByteMoreIs414() {
        XCTAssertEqual(head(request(lineLength: 8 * 1024))?.target.count, 8 * 1024 - 15)
        assertRejects(request(lineLength: 8 * 1024 + 1), .requestLineTooLong)
        XCTAssertEqual(HTTPParseError.requestLineTooLong.code, 414)
        XCTAssertTrue(HTTPParseError.requestLineTooLong.closesConnection)
    }

    func testCustomRequestLineLimit() {
        let limits = RequestParser.Limits(maxRequestLineLength: 20)
        XCTAssertNotNil(head(request(lineLength: 20), limits: limits))
        assertRejects(request(lineLength: 21), .requestLineTooLong, limits: limits)
    }

    func testOverlongRequestLineIsRefusedBeforeItEnds() {
        // No LF ever comes: the parser must not buffer without bound.
        assertRejects("GET /" + String(repeating: "a", count: 8 * 1024), .requestLineTooLong)
        assertRejects(String(repeating: "A", count: 30), .requestLineTooLong, limits: .init(maxRequestLineLength: 20))
        var parser = RequestParser(limits: .init(maxRequestLineLength: 20))
        let first = Array("GET /aaaaaaaaaa".utf8).withUnsafeBytes { parser.parse($0) }
        guard case .needMore = first.event else { return XCTFail("\(first.event)") }
        let second = Array("aaaaaaaaaa".utf8).withUnsafeBytes { parser.parse($0) }
        guard case .error(.requestLineTooLong) = second.event else { return XCTFail("\(second.event)") }
    }

    func testALongLineOfGarbageIsRefusedForItsFirstBadByteFirst() {
        // The method is judged on the bytes within the limit, whatever the length.
        assertRejects("GE<T /" + String(repeating: "a", count: 9000), .invalidMethod)
        assertRejects(String(repeating: "A", count: 9000) + "<", .requestLineTooLong)
    }

    func testHeaderSectionLimit() {
        // "Host: a\r\n" (9) + "X: " value "\r\n" (5 + n) + final "\r\n" (2) = 16 + n.
        let limits = RequestParser.Limits(maxHeaderBlockLength: 30)
        let value = { (count: Int) in String(repeating: "v", count: count) }
        XCTAssertNotNil(head("GET / HTTP/1.1\r\nHost: a\r\nX: \(value(14))\r\n\r\n", limits: limits))
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX: \(value(15))\r\n\r\n", .headerBlockTooLarge, limits: limits)
        // The final empty line counts: here it is the one byte too many.
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX: \(value(13))\r\n\r\n", .headerBlockTooLarge,
                      limits: .init(maxHeaderBlockLength: 28))
        XCTAssertEqual(HTTPParseError.headerBlockTooLarge.code, 431)
    }

    func testDefaultHeaderSectionLimitIs32KiB() {
        // Lines of 1007 ("X-0: " + 1000 + CRLF) or 1008 bytes; with "Host: a\r\n" and the final CRLF,
        // 32 of them make 32,257 bytes (under 32,768) and 33 make 33,265 (over).
        let lines = { (count: Int) in (0..<count).map { "X-\($0): \(String(repeating: "v", count: 1000))\r\n" }.joined() }
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\n\(lines(32))\r\n")?.headers.count, 33)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\n\(lines(33))\r\n", .headerBlockTooLarge)
    }

    func testHeaderSectionThatNeverEndsIsRefusedEarly() {
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "v", count: 40 * 1024), .headerBlockTooLarge)
    }

    func testHeaderCountLimit() {
        let fields = { (count: Int) in (1..<count).map { "X-\($0): \($0)\r\n" }.joined() }
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\n\(fields(100))\r\n")?.headers.count, 100)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\n\(fields(101))\r\n", .tooManyHeaders)
        let limits = RequestParser.Limits(maxHeaderCount: 2)
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\n\r\n", limits: limits)?.headers.count, 2)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", .tooManyHeaders, limits: limits)
        XCTAssertEqual(HTTPParseError.tooManyHeaders.code, 431)
    }

    func testDefaults() {
        let limits = RequestParser.Limits()
        XCTAssertEqual(limits.maxRequestLineLength, 8192)
        XCTAssertEqual(limits.maxHeaderBlockLength, 32768)
        XCTAssertEqual(limits.maxHeaderCount, 100)
        XCTAssertEqual(limits.maxBodyLength, 1 << 30)
        XCTAssertEqual(RequestParser().limits, limits)
    }
}
