import XCTest

@testable import HTTP

/// The chunked body decoder (RFC 9112 §7.1).
final class ChunkedTests: XCTestCase {
    let prefix = "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

    func chunked(_ body: String, limits: RequestParser.Limits = .init(), file: StaticString = #filePath, line: UInt = #line) -> [Outcome] {
        parse(prefix + body, limits: limits, file: file, line: line)
    }

    func assertChunked(_ body: String, _ expected: HTTPParseError, limits: RequestParser.Limits = .init(),
                       file: StaticString = #filePath, line: UInt = #line) {
        assertRejects(prefix + body, expected, limits: limits, file: file, line: line)
    }

    func testChunksAreJoined() {
        XCTAssertEqual(body(of: chunked("5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n")), Array("hello world".utf8))
    }

    func testEmptyBody() {
        XCTAssertEqual(chunked("0\r\n\r\n").dropFirst(), [.end])
        XCTAssertEqual(chunked("000\r\n\r\n").dropFirst(), [.end])
    }

    func testHexSizesInEitherCaseWithLeadingZeros() {
        let data = String(repeating: "x", count: 26)
        XCTAssertEqual(body(of: chunked("1a\r\n\(data)\r\n0\r\n\r\n")), Array(data.utf8))
        XCTAssertEqual(body(of: chunked("1A\r\n\(data)\r\n0\r\n\r\n")), Array(data.utf8))
        XCTAssertEqual(body(of: chunked("00001A\r\n\(data)\r\n0\r\n\r\n")), Array(data.utf8))
    }

    func testDataMayContainAnything() {
        let data = "0\r\n\r\nGET / HTTP/1.1\r\n"
        let size = String(data.utf8.count, radix: 16)
        XCTAssertEqual(body(of: chunked("\(size)\r\n\(data)\r\n0\r\n\r\n")), Array(data.utf8))
    }

    func testExtensionsAreSkipped() {
        let withExtensions = "5;name=value\r\nhello\r\n6 ; a ; b=\"quoted;\\\" value\"\r\n world\r\n0;last\r\n\r\n"
        XCTAssertEqual(body(of: chunked(withExtensions)), Array("hello world".utf8))
        XCTAssertEqual(body(of: chunked("5\t;x\r\nhello\r\n0\r\n\r\n")), Array("hello".utf8))
    }

    func testTrailersAreValidatedAndDiscarded() {
        let outcomes = chunked("5\r\nhello\r\n0\r\nChecksum: abc\r\nX-Other:\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(outcomes.count, 5)
        XCTAssertEqual(outcomes[1], .body(Array("hello".utf8)))
        XCTAssertEqual(outcomes[2], .end)
        guard case .head(let next) = outcomes[3] else { return XCTFail("\(outcomes)") }
        XCTAssertEqual(next.target, "/next")
    }

    func testInvalidChunkSizes() {
        for size in ["g", "-1", "+1", "0x10", " 5", "\t5", "5 5", "5 ", ";x", "1_0"] {
            assertChunked("\(size)\r\nhello\r\n0\r\n\r\n", .invalidChunkSize)
        }
        assertChunked("\r\nhello\r\n0\r\n\r\n", .invalidChunkSize)
    }

    func testChunkSizeOverflow() {
        assertChunked("FFFFFFFFFFFFFFFFF\r\n", .chunkSizeOverflow)
        assertChunked("10000000000000000\r\n", .chunkSizeOverflow)
        // The largest Int parses, and is then over the body limit.
        assertChunked("7FFFFFFFFFFFFFFF\r\n", .bodyTooLarge)
    }

    func testChunkDataMustEndWithCRLF() {
        assertChunked("5\r\nhelloX\r\n0\r\n\r\n", .missingChunkDataCRLF)
        assertChunked("5\r\nhello\rX0\r\n\r\n", .missingChunkDataCRLF)
        assertChunked("5\r\nhello\n0\r\n\r\n", .missingChunkDataCRLF)
        assertChunked("3\r\nhello\r\n0\r\n\r\n", .missingChunkDataCRLF)
    }

    func testSizeLinesMustEndWithCRLF() {
        assertChunked("5\nhello\r\n0\r\n\r\n", .bareLF)
        assertChunked("5\rhello\r\n0\r\n\r\n", .bareCR)
        assertChunked("5;x\nhello\r\n0\r\n\r\n", .invalidChunkExtension)
        assertChunked("5\r\nhello\r\n0\n\r\n", .bareLF)
    }

    func testExtensionsMustNotHoldControls() {
        assertChunked("5;a\u{0}b\r\nhello\r\n0\r\n\r\n", .invalidChunkExtension)
        assertChunked("5;a\rb\r\nhello\r\n0\r\n\r\n", .bareCR)
        assertChunked("5;a\u{7F}\r\nhello\r\n0\r\n\r\n", .invalidChunkExtension)
    }

    func testChunkLineLengthIsLimited() {
        let limits = RequestParser.Limits(maxChunkLineLength: 16)
        XCTAssertEqual(body(of: chunked("5;" + String(repeating: "e", count: 14) + "\r\nhello\r\n0\r\n\r\n", limits: limits)),
                       Array("hello".utf8))
        assertChunked("5;" + String(repeating: "e", count: 15) + "\r\nhello\r\n0\r\n\r\n", .chunkLineTooLong, limits: limits)
        // Leading zeros count too: a client cannot stream one endless size line.
        assertChunked(String(repeating: "0", count: 17), .chunkLineTooLong, limits: limits)
        // The default extension room is 4 KiB.
        assertChunked("5;" + String(repeating: "e", count: 4 * 1024) + "\r\n", .chunkLineTooLong)
    }

    func testInvalidTrailers() {
        assertChunked("0\r\n folded: x\r\n\r\n", .invalidTrailer)
        assertChunked("0\r\nX-A: 1\r\n\tfolded\r\n\r\n", .invalidTrailer)
        assertChunked("0\r\nX-A : 1\r\n\r\n", .invalidTrailer)
        assertChunked("0\r\nX-A: a\u{1}\r\n\r\n", .invalidTrailer)
        assertChunked("0\r\n: empty name\r\n\r\n", .invalidTrailer)
        assertChunked("0\r\nX-A: 1\rX\r\n\r\n", .bareCR)
        assertChunked("0\r\nX-A: 1\n\r\n", .invalidTrailer)
        assertChunked("0\r\n\rX", .bareCR)
    }

    func testTrailerSectionIsLimited() {
        let limits = RequestParser.Limits(maxTrailerBlockLength: 20)
        // 18 bytes of field line and the final CRLF: 20.
        XCTAssertEqual(chunked("0\r\nX-Trailer: 12345\r\n\r\n", limits: limits).dropFirst(), [.end])
        assertChunked("0\r\nX-Trailer: 123456\r\n\r\n", .trailerBlockTooLarge, limits: limits)
        XCTAssertEqual(HTTPParseError.trailerBlockTooLarge.code, 431)
    }

    func testBodyLimitIsAppliedWhileStreaming() {
        let limits = RequestParser.Limits(maxBodyLength: 8)
        XCTAssertEqual(body(of: chunked("5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n", limits: limits)), Array("helloabc".utf8))
        // The first chunk is delivered; the second is refused at its size line, before its data.
        let outcomes = chunked("5\r\nhello\r\n4\r\nabcd\r\n0\r\n\r\n", limits: limits)
        XCTAssertEqual(Array(outcomes.dropFirst()), [.body(Array("hello".utf8)), .error(.bodyTooLarge)])
    }

    func testIncompleteChunkedBodyWaits() {
        XCTAssertEqual(chunked("5\r\nhel").dropFirst(), [.body(Array("hel".utf8))])
        XCTAssertEqual(chunked("5\r\nhello\r\n0\r\n").dropFirst(), [.body(Array("hello".utf8))])
        XCTAssertEqual(chunked("5\r\nhello\r\n0\r\nX: y\r\n").dropFirst(), [.body(Array("hello".utf8))])
    }
}
