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

    /// Routing and the handler inline, no further async call: each one costs a frame and a hop.
    @LoopActor
    public func respond(to request: Request) async -> Response {
        if let chain = routing.chain { return await chain(request) }
        switch routing.router.match(method: request.method.rawValue, path: request.path) {
        case let .found(handler, parameters):
            request.boundParameters = parameters
            do {
                return try await handler(request)
            } catch {
                return HandlerFailure.response(for: error, to: request)
            }
        case let .methodNotAllowed(allowed):
            var response = Response.text("method not allowed\n", status: .methodNotAllowed)
            response.headers.append(("Allow", allowed.joined(separator: ", ")))
            return response
        case .notFound:
            return .text("not found\n", status: .notFound)
        }
    }
}
