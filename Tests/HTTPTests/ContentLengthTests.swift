import XCTest

@testable import HTTP

/// `Content-Length` framing (RFC 9110 §8.6, RFC 9112 §6.3): exactly one, exactly digits.
final class ContentLengthTests: XCTestCase {
    func testBodyIsDelivered() {
        let outcomes = parse("POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world")
        guard case .head(let head) = outcomes.first else { return XCTFail("\(outcomes)") }
        XCTAssertEqual(head.framing, .contentLength(11))
        XCTAssertEqual(body(of: outcomes), Array("hello world".utf8))
    }

    func testBodyBytesAreDeliveredAsIsIncludingCRLFAndNUL() {
        let payload: [UInt8] = [0, 13, 10, 13, 10, 255, 0x47, 0x45, 0x54, 0x20]
        let outcomes = parse(Array("PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n".utf8) + payload)
        XCTAssertEqual(body(of: outcomes), payload)
    }

    func testZeroLengthBodyEndsWithTheHead() {
        let outcomes = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
        guard outcomes.count == 2, case .head(let head) = outcomes[0] else { return XCTFail("\(outcomes)") }
        XCTAssertEqual(head.framing, .contentLength(0))
        XCTAssertEqual(outcomes[1], .end)
    }

    func testIncompleteBodyWaits() {
        let outcomes = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        XCTAssertEqual(outcomes.count, 2)
        XCTAssertEqual(outcomes.last, .body(Array("abc".utf8)))
    }

    func testWhitespaceAroundTheValueIsTrimmed() {
        let outcomes = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:  \t5 \t\r\n\r\nhello")
        XCTAssertEqual(body(of: outcomes), Array("hello".utf8))
        XCTAssertEqual(body(of: parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 005\r\n\r\nhello")), Array("hello".utf8))
    }

    func testMalformedValuesAreRefused() {
        for value in ["+5", "-5", "0x5", "5, 6", "5,6", "5 5", "5\t5", "", "5a", "five", "5.0", "１"] {
            assertRejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(value)\r\n\r\nhello", .invalidContentLength)
        }
    }

    func testIdenticalDuplicatesAreRefusedToo() {
        // Choice: RFC 9110 §8.6 allows merging identical values; we refuse any list or repetition.
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", .invalidContentLength)
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", .duplicateContentLength)
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\nhello", .duplicateContentLength)
    }

    func testOverflowIsRefused() {
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", .contentLengthOverflow)
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n", .contentLengthOverflow)
        // Int.max itself parses, and is then over the body limit.
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n", .bodyTooLarge)
    }

    func testBodyLimitIsAppliedUpFront() {
        let limits = RequestParser.Limits(maxBodyLength: 5)
        XCTAssertEqual(body(of: parse("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", limits: limits)), Array("hello".utf8))
        // Refused on the head alone: not a byte of the body needs to arrive.
        assertRejects("PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n", .bodyTooLarge, limits: limits)
        XCTAssertEqual(HTTPParseError.bodyTooLarge.code, 413)
        XCTAssertTrue(HTTPParseError.bodyTooLarge.closesConnection)
    }

    func testGetWithABodyHasItConsumedSoTheNextRequestParses() {
        // The body looks like a request line: it must be delivered as body, not parsed.
        let outcomes = parse("GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 17\r\n\r\nGET /b HTTP/1.1\r\nGET /c HTTP/1.1\r\nHost: a\r\n\r\n")
        guard outcomes.count == 5, case .head(let first) = outcomes[0], case .head(let second) = outcomes[3] else {
            return XCTFail("\(outcomes)")
        }
        XCTAssertEqual(first.target, "/a")
        XCTAssertEqual(outcomes[1], .body(Array("GET /b HTTP/1.1\r\n".utf8)))
        XCTAssertEqual(outcomes[2], .end)
        XCTAssertEqual(second.target, "/c")
        XCTAssertEqual(outcomes[4], .end)
    }
}
