import EventLoop
import HTTPServer
import XCTest

final class ResponseHeadTests: XCTestCase {
    func encode(_ status: Status, _ headers: [(name: String, value: String)] = [], framing: ResponseHead.Framing,
                close: Bool = false, keepAlive10: Bool = false) -> String {
        let buffer = ByteBuffer()
        ResponseHead.encode(status, headers: headers, framing: framing, date: "Sun, 06 Nov 1994 08:49:37 GMT",
                            close: close, keepAlive10: keepAlive10, into: buffer)
        return String(decoding: buffer.bytes, as: UTF8.self)
    }

    func testContentLengthResponse() {
        XCTAssertEqual(encode(.ok, [("Content-Type", "text/plain; charset=utf-8")], framing: .contentLength(13)),
                       "HTTP/1.1 200 OK\r\nServer: supervisor\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                       + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\n\r\n")
    }

    func testChunkedAndClose() {
        XCTAssertEqual(encode(.ok, framing: .chunked, close: true),
                       "HTTP/1.1 200 OK\r\nServer: supervisor\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                       + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    }

    func testNoFramingAndKeepAliveForHTTP10() {
        XCTAssertEqual(encode(.notModified, [("ETag", "\"x\"")], framing: .none, keepAlive10: true),
                       "HTTP/1.1 304 Not Modified\r\nServer: supervisor\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                       + "ETag: \"x\"\r\nConnection: keep-alive\r\n\r\n")
    }

    func testLengthsOfEveryMagnitude() {
        for length in [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 12_345, 13_000_000, 999_999_999_999_999_999, 1_000_000_000_000_000_000, Int.max] {
            XCTAssertTrue(encode(.ok, framing: .contentLength(length)).contains("\r\nContent-Length: \(length)\r\n"), "\(length)")
        }
    }

    /// Three-digit codes are stored digit by digit; anything else a handler makes up still comes
    /// out as its decimal.
    func testStatusCodesOfEveryDigit() {
        for code in [100, 101, 109, 110, 200, 204, 307, 404, 418, 450, 503, 599, 999] {
            XCTAssertTrue(encode(Status(code, "R"), framing: .none).hasPrefix("HTTP/1.1 \(code) R\r\n"), "\(code)")
        }
        for code in [0, 7, 42, 99, 1000, 12_345] {
            XCTAssertTrue(encode(Status(code, "R"), framing: .none).hasPrefix("HTTP/1.1 \(code) R\r\n"), "\(code)")
        }
    }

    func testBodylessStatuses() {
        XCTAssertFalse(Status.noContent.allowsBody)
        XCTAssertFalse(Status.notModified.allowsBody)
        XCTAssertFalse(Status.continue.allowsBody)
        XCTAssertTrue(Status.ok.allowsBody)
    }

    /// The head is written into room reserved for it up front: long and non-ASCII values, many
    /// headers, the longest decimals and every option still come out whole, appended after what
    /// the buffer held, and the buffer goes on growing as before.
    func testLargeHeadsAreWrittenWholeAfterWhatTheBufferHeld() {
        let buffer = ByteBuffer()
        let before = Array("earlier bytes".utf8)
        before.withUnsafeBytes { buffer.append($0) }
        let long = String(repeating: "v", count: 5_000)
        let headers = [("X-Long", long), ("X-Größe", "naïve ✓")] + (0..<50).map { ("X-\($0)", "\($0)") }
        ResponseHead.encode(Status(599, "Ein sehr langer Grund – mit Ümlauten"), headers: headers, framing: .contentLength(Int.max),
                            date: "Sun, 06 Nov 1994 08:49:37 GMT", close: true, into: buffer)
        let expected = "earlier bytes" + "HTTP/1.1 599 Ein sehr langer Grund – mit Ümlauten\r\nServer: supervisor\r\n"
            + "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n" + headers.map { "\($0.0): \($0.1)\r\n" }.joined()
            + "Content-Length: \(Int.max)\r\nConnection: close\r\n\r\n"
        XCTAssertEqual(String(decoding: buffer.bytes, as: UTF8.self), expected)
        XCTAssertEqual(buffer.count, expected.utf8.count)
    }
}
