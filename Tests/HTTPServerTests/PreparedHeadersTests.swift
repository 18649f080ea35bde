import EventLoop
@testable import HTTPServer
import XCTest

/// Fields encoded once must go out exactly as the same fields listed, and stop being used the
/// moment the list changes (a middleware's header must never be lost to a stale block).
final class PreparedHeadersTests: XCTestCase {
    let fields = [("ETag", "\"3e8-5f1\""), ("Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"), ("Content-Type", "text/plain; charset=utf-8")]

    func head(_ response: Response) -> String {
        let buffer = ByteBuffer()
        ResponseHead.encode(response.status, headers: response.headers, prepared: response.prepared, framing: .contentLength(5),
                            date: "Sun, 06 Nov 1994 08:49:37 GMT", close: false, into: buffer)
        return String(decoding: buffer.bytes, as: UTF8.self)
    }

    func testTheBlockIsTheListEncoded() {
        let prepared = PreparedHeaders(fields)
        XCTAssertEqual(String(decoding: prepared.encoded, as: UTF8.self),
                       "ETag: \"3e8-5f1\"\r\nLast-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/plain; charset=utf-8\r\n")
        XCTAssertEqual(prepared.fields.map(\.name), ["ETag", "Last-Modified", "Content-Type"])
        XCTAssertTrue(PreparedHeaders([]).encoded.isEmpty)
    }

    func testAPreparedResponseSendsTheSameHeadAsAListedOne() {
        let prepared = Response(status: .ok, headers: PreparedHeaders(fields))
        let listed = Response(status: .ok, headers: fields)
        XCTAssertNotNil(prepared.prepared)
        XCTAssertNil(listed.prepared)
        XCTAssertEqual(head(prepared), head(listed))
        XCTAssertEqual(prepared.header("etag"), "\"3e8-5f1\"", "the fields are still there to read")
    }

    func testChangingTheFieldsDropsTheBlock() {
        var response = Response.text("hello")
        XCTAssertNotNil(response.prepared, ".text encodes its Content-Type once")
        response.headers.append(("X-Request-Id", "req-1"))
        XCTAssertNil(response.prepared)
        XCTAssertTrue(head(response).contains("Content-Type: text/plain; charset=utf-8\r\nX-Request-Id: req-1\r\n"), head(response))

        var replaced = Response(status: .ok, headers: PreparedHeaders(fields))
        replaced.headers = [("Content-Type", "application/json")]
        XCTAssertFalse(head(replaced).contains("ETag"), head(replaced))
        XCTAssertTrue(head(replaced).contains("Content-Type: application/json\r\n"))
    }
}
