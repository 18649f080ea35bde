import EventLoop

/// A handler for one route. One that throws is answered for it: an `HTTPError` with its status,
/// anything else with 500 and an error log line (`HandlerFailure`).
public typealias RouteHandler = @Sendable @LoopActor (Request) async throws -> Response

/// An `HTTPResponder` made of a `Router`: the library API's usual way to serve your own handlers.
///
///     var routes = Router<RouteHandler>()
///     routes.get("/hello/{name}") { request in .text("Hello, \(request.parameters["name"] ?? "")") }
///     let responder = RouterResponder(routes, middleware: [timing])
public struct RouterResponder: HTTPResponder {
    /// The router and the middleware behind one reference: the server holds a responder as `any
    /// HTTPResponder` and copies it per request, which for one reference is one retain (for a
    /// router and a chain side by side, a value-witness copy and destroy: 40 instructions more).
    private let routing: Routing

    /// The routes, and the middleware around them composed once: nil without any, so that a
    /// request then costs one nil check and nothing else (the built-in app has none).
    final class Routing: Sendable {
        let router: Router<RouteHandler>
        let chain: Middleware.Next?

        init(_ router: Router<RouteHandler>, chain: Middleware.Next?) {
            self.router = router
            self.chain = chain
        }
    }

    public var router: Router<RouteHandler> { routing.router }

    public init(_ router: Router<RouteHandler>, middleware: [Middleware] = []) {
        // The innermost step is this responder without middleware: routing and the handler.
        let inner = RouterResponder(routing: Routing(router, chain: nil))
        routing = Routing(router, chain: middleware.isEmpty ? nil : Middleware.chain(middleware) { request in await inner.respond(to: request) })
    }

    private init(routing: Routing) { self.routing = routing }

    /// Whether middleware wraps the routes: the HTTP connection then calls `respond`, and
    /// otherwise finds the route itself (`route`) and awaits only the handler.
    var hasMiddleware: Bool { routing.chain != nil }

    /// Routing and the handler inline, no further async call: each one costs a frame and a hop.
    @LoopActor
    public func respond(to request: Request) async -> Response {
        if let chain = routing.chain { return await chain(request) }
        switch route(request) {
        case let .route(route): return await Self.call(route.handler, with: request)
        case let .answer(response): return response
        }
    }

    /// What `respond` does before awaiting, without middleware: the route whose handler to call
    /// (the parameters bound to the request), or the answer when no route takes the request. The
    /// HTTP connection calls it directly, so the handler is the only async call a request makes.
    enum Routed {
        case route(Router<RouteHandler>.Route)
        case answer(Response)
    }

    @LoopActor
    func route(_ request: Request) -> Routed {
        let router = routing.router
        let bytes = request.bytes
        let path = request.pathRange
        if let route = router.find(method: request.method.rawValue, path: path, of: bytes, binding: &request.boundParameters) {
            return .route(route)
        }
        switch router.refusal(for: path, of: bytes) {
        case let .methodNotAllowed(allowed):
            var response = Response.text("method not allowed\n", status: .methodNotAllowed)
            response.headers.append(("Allow", allowed.joined(separator: ", ")))
            return .answer(response)
        case .notFound, .found:  // a refusal is never `.found`
            return .answer(.text("not found\n", status: .notFound))
        }
    }

    /// The handler's response, or the answer to what it threw (`HandlerFailure`). Inlined into
    /// its callers, so that it adds no async frame.
    @LoopActor @inline(__always)
    static func call(_ handler: RouteHandler, with request: Request) async -> Response {
        do {
            return try await handler(request)
        } catch {
            return HandlerFailure.response(for: error, to: request)
        }
    }
}
