import EventLoop

/// Code that wraps every request of a `RouterResponder`: before the handler (it may answer at once,
/// short-circuiting: auth), after it (it may change the response: a header, a log line) or both
/// (timing).
///
///     let requestID = Middleware { request, next in
///         var response = await next(request)
///         response.headers.append(("X-Request-Id", request.headers["x-request-id"] ?? "generated"))
///         return response
///     }
///     HTTPService(responder: RouterResponder(router, middleware: [requestID]))
///
/// The first in the list is the outermost. `next` is the rest of the chain, routing included, and
/// never throws: what a handler throws has already become its 500 (or the `HTTPError`'s status), so
/// an outer middleware sees every response, 404s too. What a middleware throws is answered the same
/// way.
public struct Middleware: Sendable {
    /// The rest of the chain: the next middleware, or the router and the handler.
    public typealias Next = @Sendable @LoopActor (Request) async -> Response
    let body: @Sendable @LoopActor (Request, Next) async throws -> Response

    public init(_ body: @escaping @Sendable @LoopActor (Request, _ next: Next) async throws -> Response) {
        self.body = body
    }

    /// `list` around `innermost`, the first outermost; each one's error answered at its level.
    static func chain(_ list: [Middleware], around innermost: @escaping Next) -> Next {
        var next = innermost
        for middleware in list.reversed() {
            let inner = next
            next = { request in
                do {
                    return try await middleware.body(request, inner)
                } catch {
                    return HandlerFailure.response(for: error, to: request)
                }
            }
        }
        return next
    }
}
