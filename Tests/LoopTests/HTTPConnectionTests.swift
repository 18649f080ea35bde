import EventLoop
import HTTPServer
import Posix
import XCTest

/// An HTTP/1.1 connection served in-process (`HTTPService` over a socket pair, the loop driven by
/// the test): keep-alive, pipelining, `100-continue`, unread bodies, the header deadline, the
/// lingering close, malformed requests.
final class HTTPConnectionTests: HTTPServingTestCase {
    // MARK: Keep-alive and pipelining

    /// Two requests, one after the other, on one connection: the first answer does not close it.
    func testKeepAliveServesTwoRequestsOnOneConnection() throws {
        let http = harness()
        let served = try http.connect()
        let first = try served.client.exchange("GET /hello/one HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(first.text, "Hello, one")
        XCTAssertFalse(first.closes, first.head)
        try testLoop.settle()
        XCTAssertFalse(http.isDone(served), "the connection is kept for the next request")
        XCTAssertFalse(served.client.peer.isFinished, "and the client sees no close")
        let second = try served.client.exchange("GET /hello/two HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(second.text, "Hello, two")
        try http.finish(served)
    }

    /// Requests sent back to back before any answer: answered in order, the first one's slowness
    /// (its handler waits for the gate) holding back those behind it, a body and a HEAD included,
    /// and the connection closed after the one that asks.
    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let http = harness()
        let served = try http.connect()
        try served.client.peer.send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n"
                                    + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nbody!"
                                    + "HEAD /hello/three HTTP/1.1\r\nHost: x\r\n\r\n"
                                    + "GET /hello/four HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        try testLoop.settle()
        XCTAssertEqual(served.client.peer.received.count, 0, "nothing overtakes the first, unanswered request")
        openGate()
        let replies = try [served.client.next(), served.client.next(), served.client.next(bodyless: true), served.client.next()]
        XCTAssertEqual(replies.map(\.status), [200, 200, 200, 200])
        XCTAssertEqual(replies.map(\.text), ["later", "body!", "", "Hello, four"])
        XCTAssertEqual(replies[2].header("Content-Length"), "12", "HEAD: the length of the GET's body, without the body")
        XCTAssertEqual(replies.map(\.closes), [false, false, false, true])
        XCTAssertEqual(try served.client.rest().count, 0, "closed after the request that asked, nothing more")
        XCTAssertTrue(served.client.peer.sawEndOfStream)
        try http.finish(served)
    }

    // MARK: Expect: 100-continue

    /// `100 Continue` goes out when the handler starts reading the body, not with the head: a
    /// handler may still refuse without it. Then the final answer follows the body.
    func testContinueIsSentWhenTheHandlerReadsTheBody() throws {
        let http = harness()
        let served = try http.connect()
        try served.client.peer.send("POST /echo-later HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        try testLoop.settle()
        XCTAssertEqual(served.client.peer.text, "", "no 100 Continue before the handler reads")
        openGate()
        let interim = try served.client.next()
        XCTAssertEqual(interim.head, "HTTP/1.1 100 Continue")
        try testLoop.settle()
        XCTAssertEqual(served.client.unread, "", "and nothing else until the body comes")
        try served.client.peer.send("hello")
        let final = try served.client.next()
        XCTAssertEqual(final.status, 200)
        XCTAssertEqual(final.text, "hello")
        XCTAssertFalse(final.closes)
        try http.finish(served)
    }

    /// A handler that answers without reading: the final status at once, no `100 Continue`, and
    /// the connection closed (the client has not sent its body, and now will not).
    func testContinueIsNotSentWhenTheHandlerAnswersWithoutReading() throws {
        let http = harness()
        let served = try http.connect()
        let reply = try served.client.exchange("POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(reply.status, 200)
        XCTAssertEqual(reply.text, "ignored")
        XCTAssertTrue(reply.closes, reply.head)
        XCTAssertEqual(try served.client.rest().count, 0)
        XCTAssertTrue(served.client.peer.sawEndOfStream, "closed")
        XCTAssertFalse(served.client.peer.text.contains("100 Continue"), served.client.peer.text)
        try http.finish(served)
    }

    // MARK: Unread bodies

    /// A body the handler did not read, all of it already buffered: dropped without waiting, and
    /// the connection kept, even after an error answer (405: the route takes no POST), which
    /// closes when the body is still to come. Were it not dropped, `body` would be read as the
    /// next request (400).
    func testAnUnreadBufferedBodyIsDroppedAndTheConnectionKept() throws {
        let http = harness()
        let served = try http.connect()
        for (target, status) in [("/ignore", 200), ("/hello/x", 405)] {
            let reply = try served.client.exchange("POST \(target) HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody")
            XCTAssertEqual(reply.status, status, target)
            XCTAssertFalse(reply.closes, reply.head)
            let next = try served.client.exchange("GET /hello/again HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(next.status, 200)
            XCTAssertEqual(next.text, "Hello, again")
        }
        try http.finish(served)
    }

    /// A small unread body still on its way: answered before the rest arrives (not after
    /// waiting for it), then the rest is read and dropped and the connection serves the next request.
    func testAnUnreadBodyStillToComeIsDroppedAfterTheAnswer() throws {
        let http = harness()
        let served = try http.connect()
        let reply = try served.client.exchange("POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n0123456789")
        XCTAssertEqual(reply.text, "ignored", "answered while half the body is still to come")
        XCTAssertFalse(reply.closes, reply.head)
        let next = try served.client.exchange("abcdefghij" + "GET /hello/again HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(next.text, "Hello, again")
        try http.finish(served)
    }

    /// An unread body larger than `maxDiscardedBody`, or one left unread by an error answer, is
    /// not worth reading: `Connection: close`, and the connection ends.
    func testAnUnreadBodyNotWorthDroppingClosesTheConnection() throws {
        let http = harness { $0.maxDiscardedBody = 1000 }
        for (request, status) in [("POST /ignore HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789", 200),
                                  ("POST /hello/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789", 405)] {
            let served = try http.connect()
            let reply = try served.client.exchange(request)
            XCTAssertEqual(reply.status, status)
            XCTAssertTrue(reply.closes, reply.head)
            XCTAssertEqual(try served.client.rest().count, 0)
            XCTAssertTrue(served.client.peer.sawEndOfStream)
            try http.finish(served)
        }
    }

    // MARK: Timeouts and errors

    /// `headerTimeout` is one deadline for the whole head: a header line every 50 ms (each read
    /// well within 400 ms) still gets 408 at the deadline, then the connection closes. A
    /// connection that sends nothing is closed at the deadline without an answer.
    func testTheHeaderTimeoutIsOneDeadlineForTheWholeHead() throws {
        let http = harness { $0.headerTimeout = .milliseconds(400) }
        let started = Instant.now
        let served = try http.connect()
        let peer = served.client.peer
        try peer.send("GET /hello/slow HTTP/1.1\r\nHost: x\r\n")
        var lines = 0
        func trickle() {
            guard !peer.isFinished, peer.received.isEmpty else { return }
            try? peer.send("X-Slow-\(lines): 1\r\n")
            lines += 1
            testLoop.loop.schedule(after: .milliseconds(50), trickle)
        }
        testLoop.loop.schedule(after: .milliseconds(50), trickle)
        let reply = try served.client.next()
        XCTAssertEqual(reply.status, 408, reply.head)
        XCTAssertTrue(reply.closes)
        XCTAssertGreaterThanOrEqual(Instant.now.since(started), .milliseconds(400), "not before the deadline")
        XCTAssertGreaterThan(lines, 0, "header lines kept coming, and did not move the deadline")
        try testLoop.run(until: "the close after 408") { peer.isFinished }
        try http.finish(served)

        let silent = try http.connect()
        let silentStart = Instant.now
        try testLoop.run(until: "a silent connection to be closed") { silent.client.peer.isFinished }
        XCTAssertGreaterThanOrEqual(Instant.now.since(silentStart), .milliseconds(400))
        XCTAssertEqual(silent.client.peer.received.count, 0, "no answer to a client that said nothing")
        try http.finish(silent)
    }

    /// After an error answer the server shuts down its side and reads what the client still
    /// sends, closing only when the client does: over TCP a close with unread input sends RST,
    /// and a client that gets RST may lose the answer. Here 256 KB follow a malformed head.
    func testAnErrorAnswerEndsWithALingeringClose() throws {
        let http = harness()
        let served = try http.connect(tcp: true)
        let peer = served.client.peer
        try peer.send(Array("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
                      + [UInt8](repeating: UInt8(ascii: "x"), count: 256 * 1024))
        let reply = try served.client.next()
        XCTAssertEqual(reply.status, 400)
        XCTAssertTrue(reply.closes)
        try testLoop.run(until: "the server's FIN") { peer.isFinished && peer.isFlushed }
        XCTAssertTrue(peer.sawEndOfStream, "an orderly end of stream")
        XCTAssertNil(peer.readError, "no reset")
        XCTAssertNil(peer.sendError, "the server took all the client sent")
        XCTAssertFalse(http.isDone(served), "the server still lingers, waiting for the client to close")
        try http.finish(served)
    }

    /// Malformed requests get 400 and a close, and nothing sent after them is served: here a
    /// request smuggled behind a head with both `Content-Length` and `Transfer-Encoding`.
    func testAMalformedRequestGets400AndNothingAfterItIsServed() throws {
        let http = harness()
        for request in ["POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + "GET /hello/smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
                        "NOT A REQUEST\r\n\r\nGET /hello/after HTTP/1.1\r\nHost: x\r\n\r\n"] {
            let served = try http.connect()
            let reply = try served.client.exchange(request)
            XCTAssertEqual(reply.status, 400, request)
            XCTAssertTrue(reply.closes)
            XCTAssertEqual(try served.client.rest().count, 0, "the request behind it is never answered")
            XCTAssertEqual(served.client.unread, "")
            try http.finish(served)
        }
    }
}
