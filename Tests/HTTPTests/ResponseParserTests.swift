import XCTest

@testable import HTTP

/// The response side of the parser: framing by length, chunks and close, the bodiless responses,
/// and the malformed or truncated responses a client must refuse rather than pass on as complete.
/// Every case is fed whole, split at every byte and one byte at a time (`parseResponses`).
final class ResponseParserTests: XCTestCase {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    func testAContentLengthBodyEndsAtItsLengthAndKeepsTheConnection() {
        let outcomes = parseResponses("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello", closes: false)
        XCTAssertEqual(outcomes, [.head(status: 200, framing: .contentLength(5), keepAlive: true), .body(bytes("hello")), .end])
    }

    func testTheHeadKeepsStatusReasonAndFields() throws {
        var parser = ResponseParser()
        let output = Array("HTTP/1.0 404 Not Found\r\nX-A: b\r\nContent-Length: 0\r\n\r\n".utf8).withUnsafeBytes { parser.parse($0) }
        guard case .head(let head) = output.event else { return XCTFail("expected a head, got \(output.event)") }
        XCTAssertEqual(head.version, .http10)
        XCTAssertEqual(head.status, 404)
        XCTAssertEqual(head.reason, "Not Found")
        XCTAssertEqual(head.headers.first(name: "x-a"), "b")
        XCTAssertFalse(head.keepAlive, "HTTP/1.0 without keep-alive")
    }

    func testPipelinedResponsesComeOutInOrder() {
        let stream = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc"
        XCTAssertEqual(parseResponses(stream, closes: false), [
            .head(status: 200, framing: .contentLength(2), keepAlive: true), .body(bytes("ab")), .end,
            .head(status: 204, framing: .noBody, keepAlive: true), .end,
            .head(status: 200, framing: .contentLength(1), keepAlive: true), .body(bytes("c")), .end,
        ])
    }

    func testChunkedWithExtensionsAndTrailersIsDecoded() {
        let stream = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n"
        XCTAssertEqual(parseResponses(stream, closes: false),
                       [.head(status: 200, framing: .chunked, keepAlive: true), .body(bytes("hello world")), .end])
    }

    func testABodyWithoutLengthRunsUntilTheClose() {
        XCTAssertEqual(parseResponses("HTTP/1.1 200 OK\r\n\r\nall of it"),
                       [.head(status: 200, framing: .untilClose, keepAlive: false), .body(bytes("all of it")), .end])
    }

    func testHeadAnd204And304HaveNoBodyWhateverTheFieldsSay() {
        XCTAssertEqual(parseResponses("HTTP/1.1 200 OK\r\nContent-Length: 13000000\r\n\r\n", methods: [.head], closes: false),
                       [.head(status: 200, framing: .noBody, keepAlive: true), .end])
        XCTAssertEqual(parseResponses("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", closes: false),
                       [.head(status: 304, framing: .noBody, keepAlive: true), .end])
        XCTAssertEqual(parseResponses("HTTP/1.1 204 No Content\r\n\r\n", closes: false),
                       [.head(status: 204, framing: .noBody, keepAlive: true), .end])
    }

    func testInterimResponsesAreSkipped() {
        XCTAssertEqual(parseResponses("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", closes: false),
                       [.head(status: 201, framing: .contentLength(0), keepAlive: true), .end])
    }

    func testAStatusLineWithoutReasonIsAccepted() {
        XCTAssertEqual(parseResponses("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", closes: false),
                       [.head(status: 200, framing: .contentLength(0), keepAlive: true), .end])
    }

    func testAConnectionClosedMidBodyIsAnErrorNotAShortBody() {
        XCTAssertEqual(parseResponses("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf"),
                       [.head(status: 200, framing: .contentLength(10), keepAlive: true), .body(bytes("half")), .error(.truncatedBody)])
        XCTAssertEqual(parseResponses("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"),
                       [.head(status: 200, framing: .chunked, keepAlive: true), .body(bytes("hel")), .error(.truncatedBody)])
        XCTAssertEqual(parseResponses("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"),
                       [.head(status: 200, framing: .chunked, keepAlive: true), .error(.truncatedBody)])
    }

    func testAConnectionClosedBeforeOrInTheHeadSaysWhich() {
        XCTAssertEqual(parseResponses("HTTP/1.1 200 OK\r\nContent-Le"), [.error(.truncatedHead)])
        var parser = ResponseParser()
        guard case .error(let error) = parser.finish() else { return XCTFail("expected an error") }
        XCTAssertTrue(error.isClosedBeforeResponse)
    }

    func testMalformedStatusLinesAreRefused() {
        XCTAssertEqual(parseResponses("SSH-2.0-OpenSSH\r\n"), [.error(.malformedStatusLine)])
        XCTAssertEqual(parseResponses("HTTP/1.1 2000 OK\r\n\r\n"), [.error(.invalidStatusCode)])
        XCTAssertEqual(parseResponses("HTTP/1.1 20 OK\r\n\r\n"), [.error(.invalidStatusCode)])
        XCTAssertEqual(parseResponses("HTTP/1.1 099 Low\r\n\r\n"), [.error(.invalidStatusCode)])
        XCTAssertEqual(parseResponses("HTTP/1.1  200 OK\r\n\r\n"), [.error(.invalidStatusCode)])
        XCTAssertEqual(parseResponses("HTTP/2.0 200 OK\r\n\r\n"), [.error(.unsupportedResponseVersion)])
        XCTAssertEqual(parseResponses("HTTP/1.1 200 O\u{1}K\r\n\r\n"), [.error(.malformedStatusLine)])
        XCTAssertEqual(parseResponses("HTTP/1.1 200 OK\n\n"), [.error(.bareLF)])
        XCTAssertEqual(parseResponses("HTTP/1.1 101 Switching Protocols\r\n\r\n"), [.error(.unexpectedSwitchingProtocols)])
    }

    func testAmbiguousFramingIsRefused() {
        XCTAssertEqual(parseResponses("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx"), [.error(.duplicateContentLength)])
        XCTAssertEqual(parseResponses("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), [.error(.invalidContentLength)])
        XCTAssertEqual(parseResponses("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
                       [.error(.contentLengthWithTransferEncoding)])
        XCTAssertEqual(parseResponses("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), [.error(.unsupportedTransferCoding)])
        XCTAssertEqual(parseResponses("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n"),
                       [.head(status: 200, framing: .chunked, keepAlive: true), .error(.invalidChunkSize)])
        XCTAssertEqual(parseResponses("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), [.error(.obsoleteLineFolding)])
    }

    func testLimitsBoundTheHeadAndADeclaredBody() {
        let long = "HTTP/1.1 200 " + String(repeating: "x", count: 9000) + "\r\n\r\n"
        XCTAssertEqual(ResponseFeeder.run(bytes(long), cuts: [100, 5000], methods: [], closes: true), [.error(.statusLineTooLong)])
        var parser = ResponseParser(limits: .init(maxBodyLength: 10))
        let output = Array("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n".utf8).withUnsafeBytes { parser.parse($0) }
        guard case .error(let error) = output.event else { return XCTFail("expected an error, got \(output.event)") }
        XCTAssertEqual(error, .responseBodyTooLarge)
    }
}
