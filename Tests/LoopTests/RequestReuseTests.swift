import EventLoop
import HTTPServer
import XCTest

/// A connection reuses its request object (and the parser's head storage) for the next request
/// only when nothing else holds it: a handler that keeps its request, or only its body, past the
/// response must still see its own request, whatever the connection serves after it.
final class RequestReuseTests: HTTPServingTestCase {
    /// What the handlers kept, in order.
    @LoopActor
    final class Kept {
        var requests: [Request] = []
        var bodies: [RequestBody] = []
    }

    private func keepingHarness(_ kept: Kept) -> HTTPHarness {
        var router = Router<RouteHandler>()
        router.get("/keep/{name}") { request in
            kept.requests.append(request)
            return .text("kept \(request.parameters["name"] ?? "-")")
        }
        router.get("/keep-body/{name}") { request in
            kept.bodies.append(request.body)
            return .text("kept body of \(request.parameters["name"] ?? "-")")
        }
        router.get("/tag/{name}") { request in
            .text("\(request.parameters["name"] ?? "-") \(request.head.headers.first(name: "X-Tag") ?? "-")")
        }
        router.post("/echo") { request in await TestRoutes.echo(request) }
        router.post("/keep/{name}") { request in  // keeps it without reading its body
            kept.requests.append(request)
            return .text("kept \(request.parameters["name"] ?? "-")")
        }
        return HTTPHarness(testLoop, routes: router, settings: HTTPSettings())
    }

    /// Pipelined requests, some of whose handlers keep their request: each answer is its own
    /// request's, and each kept request still shows its own path, query, parameters and fields
    /// after the connection served the ones behind it.
    func testAKeptRequestIsNeverReusedForTheNextOne() throws {
        let kept = LoopActor.assumeIsolated { Kept() }
        let http = keepingHarness(kept)
        let served = try http.connect()
        try served.client.peer.send("GET /keep/first?a=1 HTTP/1.1\r\nHost: x\r\nX-Tag: one\r\n\r\n"
                                    + "GET /tag/second HTTP/1.1\r\nHost: x\r\nX-Tag: two\r\n\r\n"
                                    + "GET /keep/third HTTP/1.1\r\nHost: x\r\nX-Tag: three\r\nX-More: yes\r\n\r\n"
                                    + "GET /tag/fourth HTTP/1.1\r\nHost: x\r\n\r\n"
                                    + "GET /tag/fifth HTTP/1.1\r\nHost: x\r\nX-Tag: five\r\n\r\n")
        let replies = try (1...5).map { _ in try served.client.next() }
        XCTAssertEqual(replies.map(\.text), ["kept first", "second two", "kept third", "fourth -", "fifth five"])
        LoopActor.assumeIsolated {
            XCTAssertEqual(kept.requests.count, 2)
            guard kept.requests.count == 2 else { return }
            let (first, third) = (kept.requests[0], kept.requests[1])
            XCTAssertFalse(first === third, "a kept request is not handed to a later request")
            XCTAssertEqual(first.path, "/keep/first")
            XCTAssertEqual(first.query, "a=1")
            XCTAssertEqual(first.parameters["name"], "first")
            XCTAssertEqual(first.head.headers.first(name: "X-Tag"), "one")
            XCTAssertEqual(first.head.headers.count, 2)
            XCTAssertEqual(third.path, "/keep/third")
            XCTAssertNil(third.query)
            XCTAssertEqual(third.parameters["name"], "third")
            XCTAssertEqual(third.head.headers.first(name: "X-Tag"), "three")
            XCTAssertEqual(third.head.headers.first(name: "X-More"), "yes")
        }
        try http.finish(served)
    }

    /// A handler that keeps only its request's body: the next request, which has a body, gets a
    /// body of its own, and the kept one still says its own (empty) body is finished.
    func testAKeptBodyIsNeverReusedForTheNextRequest() throws {
        let kept = LoopActor.assumeIsolated { Kept() }
        let http = keepingHarness(kept)
        let served = try http.connect()
        let first = try served.client.exchange("GET /keep-body/one HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(first.text, "kept body of one")
        let echoed = try served.client.exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        XCTAssertEqual(echoed.text, "hello")
        let again = try served.client.exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
        XCTAssertEqual(again.text, "abc")
        LoopActor.assumeIsolated {
            XCTAssertEqual(kept.bodies.count, 1)
            XCTAssertEqual(kept.bodies.first?.isFinished, true, "the kept body is its own bodyless request's")
        }
        try http.finish(served)
    }

    /// A connection that goes idle gives its request object to the loop, and the next connection
    /// to read a request takes it: its body is then read from that connection, not the first.
    func testARequestObjectPassedToAnotherConnectionReadsThatConnectionsBody() throws {
        let kept = LoopActor.assumeIsolated { Kept() }
        let http = keepingHarness(kept)
        let first = try http.connect()
        let second = try http.connect()
        XCTAssertEqual(try first.client.exchange("GET /tag/a HTTP/1.1\r\nHost: x\r\nX-Tag: one\r\n\r\n").text, "a one")
        let fromSecond = try second.client.exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nbee")
        XCTAssertEqual(fromSecond.text, "bee")
        let fromFirst = try first.client.exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nay")
        XCTAssertEqual(fromFirst.text, "ay")
        XCTAssertEqual(try second.client.exchange("GET /tag/b HTTP/1.1\r\nHost: x\r\nX-Tag: two\r\n\r\n").text, "b two")
        try http.finish(first)
        try http.finish(second)
    }

    /// A request kept past its response, used after its connection is gone (a background task, a
    /// list): what it knew of the connection is still there, the socket's addresses are nil, and
    /// its unread body is an error, never a read through the freed connection (that trapped).
    func testARequestKeptPastItsConnectionIsDetachedFromIt() throws {
        let kept = LoopActor.assumeIsolated { Kept() }
        let http = keepingHarness(kept)
        let served = try http.connect()
        try served.client.peer.send("POST /keep/late HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\n"
                                    + "X-Forwarded-Proto: https\r\nContent-Length: 5\r\n\r\nhello")
        XCTAssertEqual(try served.client.next().text, "kept late")
        try http.finish(served)  // the connection is closed and let go
        let request = try XCTUnwrap(LoopActor.assumeIsolated { kept.requests.first })
        LoopActor.assumeIsolated {
            XCTAssertEqual(request.clientAddress, "203.0.113.9", "a unix-socket peer is trusted")
            XCTAssertEqual(request.scheme, "https")
            XCTAssertEqual(request.context.peer, "unix")
            XCTAssertNil(request.context.peerAddress)
            XCTAssertNil(request.context.localAddress)
            XCTAssertEqual(request.path, "/keep/late")
        }
        let read = testLoop.spawn { () -> String in
            do {
                _ = try await request.body.next()
                return "read"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(try testLoop.result(of: read, "the kept body's read"), "the client closed the connection")
    }
}
