import EventLoop
import HTTPServer
import XCTest

/// Middleware around a router: the order it runs in, before and after the handler, answering
/// in the handler's place, and seeing what routing and a throwing handler answered.
final class MiddlewareTests: HTTPServingTestCase {
    /// Counts the handler's runs, to tell a short-circuit from a handler that ran.
    @LoopActor final class Calls {
        var handler = 0
        var trace: [String] = []
    }

    func serve(_ middleware: [Middleware], calls: Calls) throws -> (HTTPHarness, HTTPHarness.Served) {
        var router = Router<RouteHandler>()
        router.get("/work") { _ in
            calls.handler += 1
            calls.trace.append("handler")
            return .text("done")
        }
        router.get("/fail") { _ in throw HTTPError(.unprocessableContent, "no") }
        let http = HTTPHarness(testLoop, responder: RouterResponder(router, middleware: middleware))
        return (http, try http.connect())
    }

    /// Tags the trace on the way in and out, and the response on the way out.
    func tracing(_ name: String, _ calls: Calls) -> Middleware {
        Middleware { request, next in
            calls.trace.append("\(name) in")
            var response = await next(request)
            calls.trace.append("\(name) out")
            response.headers.append(("X-Seen-By", name))
            return response
        }
    }

    func testTheFirstMiddlewareIsTheOutermost() throws {
        let calls = LoopActor.assumeIsolated { Calls() }
        let (http, served) = try serve([tracing("outer", calls), tracing("inner", calls)], calls: calls)
        let reply = try served.client.exchange("GET /work HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(reply.text, "done")
        XCTAssertTrue(reply.head.contains("X-Seen-By: inner\r\nX-Seen-By: outer\r\n"), reply.head)
        LoopActor.assumeIsolated { XCTAssertEqual(calls.trace, ["outer in", "inner in", "handler", "inner out", "outer out"]) }
        try http.finish(served)
    }

    /// Auth: a middleware that answers (or throws an `HTTPError`) without calling `next`; the
    /// handler never runs.
    func testAMiddlewareCanAnswerInsteadOfTheHandler() throws {
        let calls = LoopActor.assumeIsolated { Calls() }
        let auth = Middleware { request, next in
            guard let token = request.headers["authorization"] else { return .text("who are you?\n", status: .unauthorized) }
            guard token == "Bearer secret" else { throw HTTPError(.forbidden, "wrong token") }
            return await next(request)
        }
        let (http, served) = try serve([auth], calls: calls)
        let anonymous = try served.client.exchange("GET /work HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(anonymous.status, 401)
        let wrong = try served.client.exchange("GET /work HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer guess\r\n\r\n")
        XCTAssertEqual(wrong.status, 403)
        XCTAssertEqual(wrong.text, "wrong token\n")
        LoopActor.assumeIsolated { XCTAssertEqual(calls.handler, 0) }
        let allowed = try served.client.exchange("GET /work HTTP/1.1\r\nHost: x\r\nauthorization: Bearer secret\r\n\r\n")
        XCTAssertEqual(allowed.status, 200)
        LoopActor.assumeIsolated { XCTAssertEqual(calls.handler, 1) }
        try http.finish(served)
    }

    /// Timing or logging middleware sees the final status of every request: a 404 from routing,
    /// the status a handler threw (its 500 too: one answer for all).
    func testAMiddlewareSeesNotFoundAndTheFailuresOfHandlers() throws {
        let calls = LoopActor.assumeIsolated { Calls() }
        let statuses = Middleware { request, next in
            let response = await next(request)
            calls.trace.append("\(request.path) \(response.status.code)")
            return response
        }
        let (http, served) = try serve([statuses], calls: calls)
        XCTAssertEqual(try served.client.exchange("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n").status, 404)
        XCTAssertEqual(try served.client.exchange("GET /fail HTTP/1.1\r\nHost: x\r\n\r\n").status, 422)
        LoopActor.assumeIsolated { XCTAssertEqual(calls.trace, ["/nowhere 404", "/fail 422"]) }
        try http.finish(served)
    }
}
