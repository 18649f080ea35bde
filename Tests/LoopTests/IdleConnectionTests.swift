import EventLoop
@testable import HTTPServer
import XCTest

/// What an idle keep-alive connection holds: no input buffer and no parser (given back to the
/// loop's free lists between requests, taken again when bytes arrive), and no task (its requests
/// are served by the loop's request workers). Requests that arrive in pieces after the buffers
/// went back, pipelined ones included, are still served whole and in order.
/// (`buffersLent`, `parsersIdle`, `workersBusy`: Support/ConnectionHoldings.swift.)
final class IdleConnectionTests: HTTPServingTestCase {
    /// A connection holds an input buffer only while it has bytes in hand that are not parsed:
    /// none before its first request, none while a head is partly there (the parser holds that
    /// part, and no task waits for the rest), none again once it was answered and kept.
    func testAKeptConnectionGivesItsBuffersBackUntilItsNextBytes() throws {
        let http = harness()
        try testLoop.settle()
        let before = buffersLent
        let served = try http.connect()
        try testLoop.settle()
        XCTAssertEqual(buffersLent, before, "a connection with nothing sent holds no buffer")

        try served.client.peer.send("GET /hello/one HTTP/1.1\r\nHo")
        try testLoop.settle()
        XCTAssertEqual(buffersLent, before, "a partial head is the parser's: the input buffer went back")
        XCTAssertEqual(workersBusy, 0, "the rest of the head is waited for without a task")
        try served.client.peer.send("st: x\r\n\r\n")
        XCTAssertEqual(try served.client.next().text, "Hello, one")
        try testLoop.settle()
        XCTAssertEqual(buffersLent, before, "answered and idle: the buffer went back")
        XCTAssertGreaterThan(parsersIdle, 0, "and so did the parser")
        XCTAssertFalse(http.isDone(served), "the connection itself is kept")

        XCTAssertEqual(try served.client.exchange("GET /hello/two HTTP/1.1\r\nHost: x\r\n\r\n").text, "Hello, two")
        try http.finish(served)
        try testLoop.settle()
        XCTAssertEqual(buffersLent, before)
    }

    /// A request without a body holds no input buffer while its handler waits (for the disk, the
    /// blocking pool, another server): nothing more is read for it. One with a request pipelined
    /// behind it keeps the buffer, which holds that request, and both are answered in order.
    func testARequestWithoutABodyHoldsNoInputBufferWhileItsHandlerWaits() throws {
        let http = harness()
        let served = try servedOnceAndIdle(http)
        let idle = buffersLent
        try served.client.peer.send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n")
        try testLoop.settle()
        XCTAssertEqual(workersBusy, 1, "the handler waits for the gate")
        XCTAssertEqual(buffersLent, idle, "without the input buffer")
        openGate()
        XCTAssertEqual(try served.client.next().text, "later")

        gate = LoopActor.assumeIsolated { Gate() }
        let pipelined = harness()
        let second = try pipelined.connect()
        try second.client.peer.send("GET /later HTTP/1.1\r\nHost: x\r\n\r\nGET /hello/next HTTP/1.1\r\nHost: x\r\n\r\n")
        try testLoop.settle()
        XCTAssertEqual(buffersLent, idle + 1, "the buffer holds the pipelined request")
        openGate()
        XCTAssertEqual(try [second.client.next(), second.client.next()].map(\.text), ["later", "Hello, next"])
        try pipelined.finish(second)
        try http.finish(served)
    }

    /// A connection that served one request and went idle (its buffers given back).
    private func servedOnceAndIdle(_ http: HTTPHarness) throws -> HTTPHarness.Served {
        let served = try http.connect()
        XCTAssertEqual(try served.client.exchange("GET /hello/first HTTP/1.1\r\nHost: x\r\n\r\n").text, "Hello, first")
        try testLoop.settle()
        return served
    }

    /// After the buffers went back, pipelined requests that arrive split anywhere, heads cut in
    /// the middle of a field and a body cut in two, are answered whole and in order.
    func testPipelinedRequestsArrivingInPiecesAfterTheBuffersWentBack() throws {
        let http = harness()
        let served = try servedOnceAndIdle(http)
        let idle = buffersLent

        let pieces = ["GET /hello/a HTTP/1.1\r\nHo", "st: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Le",
                      "ngth: 6\r\n\r\nbo", "dy!!GET /hello/b HTTP/1.1\r\n", "Host: x\r\n\r\nGET /hel",
                      "lo/c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"]
        for (index, piece) in pieces.enumerated() {
            try served.client.peer.send(piece)
            try testLoop.settle()
            if index == 0 {
                XCTAssertEqual(buffersLent, idle, "the first piece is the parser's: no buffer is held meanwhile")
                XCTAssertEqual(workersBusy, 0, "nor a task")
            }
        }
        let replies = try served.client.rest()
        XCTAssertEqual(replies.map(\.status), [200, 200, 200, 200])
        XCTAssertEqual(replies.map(\.text), ["Hello, a", "body!!", "Hello, b", "Hello, c"])
        XCTAssertEqual(replies.map(\.closes), [false, false, false, true])
        try http.finish(served)
        try testLoop.settle()
        XCTAssertEqual(buffersLent, idle, "every buffer went back")
    }

    /// A kept connection that waits for its next request without a task still ends at
    /// `--keepalive-timeout`, closed without an answer.
    func testAnIdleConnectionEndsAtTheKeepAliveTimeout() throws {
        let http = harness { $0.keepAliveTimeout = .milliseconds(200) }
        let served = try http.connect()
        XCTAssertEqual(try served.client.exchange("GET /hello/x HTTP/1.1\r\nHost: x\r\n\r\n").text, "Hello, x")
        try testLoop.run(until: "the idle connection to be closed", timeout: .seconds(10)) { http.isDone(served) }
        try testLoop.run(until: "the client to see the close") { served.client.peer.isFinished }
        XCTAssertEqual(served.client.unread, "", "closed without an answer")
    }

    /// Requests that arrive in the same turn are served in the order they arrived, also when a
    /// worker waits already for work: the one handed the first connection serves the rest of the
    /// queue, and the one it wakes in case it is held up takes from the queue only when it runs.
    /// (Handed the second connection at once, that one was served after all the others.)
    func testRequestsOfOneTurnAreServedInTheOrderTheyArrived() throws {
        let order = LoopActor.assumeIsolated { ArrivalOrder() }
        var routes = TestRoutes.make(gate: gate)
        routes.get("/order/{n}") { request in
            order.names.append(String(request.parameters["n"] ?? ""))
            return .text("ok")
        }
        let http = HTTPHarness(testLoop, routes: routes)
        let all = try (0..<6).map { _ in try http.connect() }
        for served in all { XCTAssertEqual(try served.client.exchange("GET /hello/warm HTTP/1.1\r\nHost: x\r\n\r\n").text, "Hello, warm") }
        try testLoop.settle()
        XCTAssertGreaterThan(LoopActor.assumeIsolated { RequestWorkers.shared.idle }, 0, "a worker waits for work")
        for (index, served) in all.enumerated() { try served.client.peer.send("GET /order/\(index) HTTP/1.1\r\nHost: x\r\n\r\n") }
        try testLoop.settle()
        for served in all { XCTAssertEqual(try served.client.next().text, "ok") }
        XCTAssertEqual(LoopActor.assumeIsolated { order.names }, (0..<6).map(String.init))
        for served in all { try http.finish(served) }
    }

    /// Many requests in flight at once are served by as many workers; once they are answered,
    /// at most `RequestWorkers.retained` workers stay, and every connection is still served.
    func testWorkersOfABurstAreGivenBack() throws {
        let http = harness()
        let all = try (0..<(RequestWorkers.retained + 8)).map { _ in try http.connect() }
        for served in all { try served.client.peer.send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n") }
        try testLoop.settle()
        let busy = LoopActor.assumeIsolated { RequestWorkers.shared.count }
        XCTAssertGreaterThanOrEqual(busy, all.count, "one worker per request in a handler")
        openGate()
        for served in all { XCTAssertEqual(try served.client.next().text, "later") }
        try testLoop.settle()
        let (workers, waiting) = LoopActor.assumeIsolated { (RequestWorkers.shared.count, RequestWorkers.shared.idle) }
        XCTAssertLessThanOrEqual(workers, RequestWorkers.retained, "the burst's extra workers ended")
        XCTAssertEqual(waiting, workers, "and the rest wait for work")
        for served in all { XCTAssertEqual(try served.client.exchange("GET /hello/again HTTP/1.1\r\nHost: x\r\n\r\n").text, "Hello, again") }
        for served in all { try http.finish(served) }
    }
}

/// The names of `/order/{n}` requests, in the order their handlers ran.
@LoopActor
private final class ArrivalOrder {
    var names: [String] = []
}
