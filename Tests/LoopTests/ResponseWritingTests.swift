import EventLoop
import HTTPServer
import XCTest

/// A response is sent at once when the socket takes it (no async call), and otherwise finished
/// once the client reads: what the kernel did not take is kept, whole and in order, and the
/// connection goes on to its next request.
final class ResponseWritingTests: HTTPServingTestCase {
    /// 2 MB: far more than a socket buffer holds.
    static let large = (0..<2_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }

    /// 2 MB of UTF-8 in 1M characters: its length in bytes, not characters, frames it.
    static let largeText = String(repeating: "é", count: 1_000_000)

    private func largeBodyHarness() -> HTTPHarness {
        var router = Router<RouteHandler>()
        router.get("/large") { _ in Response(status: .ok, body: .bytes(Self.large)) }
        router.get("/small") { _ in .text("small") }
        router.get("/large-text") { _ in .text(Self.largeText) }
        return HTTPHarness(testLoop, routes: router, settings: HTTPSettings())
    }

    /// A large body in memory to a client that reads nothing at first: the connection waits with
    /// the rest; once the client reads, every byte arrives, and the next (pipelined) request is
    /// answered after it. The same for a large `.text`, written from the string's own storage and
    /// framed by its UTF-8 length.
    func testALargeBodyReachesAClientThatReadsLate() throws {
        for (path, expected) in [("/large", Self.large), ("/large-text", Array(Self.largeText.utf8))] {
            let http = largeBodyHarness()
            let served = try http.connect()
            served.client.peer.stopReading()
            try served.client.peer.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\nGET /small HTTP/1.1\r\nHost: x\r\n\r\n")
            try testLoop.settle()
            XCTAssertGreaterThan(served.client.peer.unreadBytes, 0, "the kernel took what fits, at once")
            XCTAssertLessThan(served.client.peer.unreadBytes, expected.count, "the socket holds less than the body (else this tests nothing)")
            XCTAssertFalse(http.isDone(served))
            try served.client.peer.startReading()
            let large = try served.client.next()
            XCTAssertEqual(large.status, 200)
            XCTAssertEqual(large.header("Content-Length"), "\(expected.count)")
            XCTAssertTrue(large.body == expected, "the body of \(path) arrives whole and in order")
            let small = try served.client.next()
            XCTAssertEqual(small.text, "small", "the next request is served after it")
            try http.finish(served)
        }
    }

    /// Responses the socket takes whole, one after the other on one connection, small and large:
    /// each arrives complete (nothing of one is left for the next to overwrite in the shared head
    /// buffer).
    func testResponsesSentAtOnceArriveWholeInTurn() throws {
        let http = largeBodyHarness()
        let served = try http.connect()
        for _ in 0..<3 {
            XCTAssertEqual(try served.client.exchange("GET /small HTTP/1.1\r\nHost: x\r\n\r\n").text, "small")
            let large = try served.client.exchange("GET /large HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertTrue(large.body == Self.large, "the large body arrives whole")
        }
        try http.finish(served)
    }

    /// A middleware or test that reads the body of `.text` sees its bytes, and what it sets
    /// replaces the text.
    func testATextBodyReadsAsItsBytesAndCanBeReplaced() {
        var response = Response.text("héllo")
        guard case let .bytes(bytes) = response.body else { return XCTFail("a text body reads as .bytes") }
        XCTAssertEqual(bytes, Array("héllo".utf8))
        response.body = .bytes([1, 2, 3])
        guard case let .bytes(replaced) = response.body else { return XCTFail("the new body") }
        XCTAssertEqual(replaced, [1, 2, 3])
    }
}
