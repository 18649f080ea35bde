import XCTest

@testable import HTTP

/// `Transfer-Encoding` (RFC 9112 §6.1, §6.3): chunked, alone, on HTTP/1.1, never with Content-Length.
final class TransferEncodingTests: XCTestCase {
    func testChunkedIsTheFraming() {
        for value in ["chunked", "Chunked", "CHUNKED", " chunked ", ", chunked", "chunked,"] {
            let outcomes = parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \(value)\r\n\r\n0\r\n\r\n")
            guard outcomes.count == 2, case .head(let head) = outcomes[0] else { return XCTFail("\(value): \(outcomes)") }
            XCTAssertEqual(head.framing, .chunked, value)
            XCTAssertEqual(outcomes[1], .end)
        }
    }

    func testBothContentLengthAndTransferEncodingAreRefused() {
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                      .contentLengthWithTransferEncoding)
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
                      .contentLengthWithTransferEncoding)
        XCTAssertTrue(HTTPParseError.contentLengthWithTransferEncoding.closesConnection)
    }

    func testTransferEncodingInHTTP10IsRefused() {
        assertRejects("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", .transferEncodingInHTTP10)
        assertRejects("POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n", .transferEncodingInHTTP10)
    }

    func testUnknownCodingsGet501AndAFinalCodingOtherThanChunked400() {
        // chunked not the final coding: the length cannot be known, 400 and close (RFC 9112 §6.3).
        for value in ["gzip", "chunked, gzip", "identity", "chunked;q=1", "chunked chunked", "x-chunked"] {
            assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \(value)\r\n\r\n", .chunkedNotFinal)
        }
        XCTAssertEqual(HTTPParseError.chunkedNotFinal.code, 400)
        XCTAssertTrue(HTTPParseError.chunkedNotFinal.closesConnection)
        // chunked last, with a coding we do not implement before it: 501 (§6.1).
        for value in ["gzip, chunked", "br, gzip, chunked"] {
            assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \(value)\r\n\r\n", .unsupportedTransferCoding)
        }
        // Across field lines, the codings form one list.
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
                      .chunkedNotFinal)
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
                      .unsupportedTransferCoding)
        XCTAssertEqual(HTTPParseError.unsupportedTransferCoding.code, 501)
        XCTAssertTrue(HTTPParseError.unsupportedTransferCoding.closesConnection)
    }

    func testChunkedTwiceOrEmptyIsRefused() {
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", .chunkedAppliedTwice)
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                      .chunkedAppliedTwice)
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", .emptyTransferEncoding)
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: , ,\r\n\r\n", .emptyTransferEncoding)
    }
}
