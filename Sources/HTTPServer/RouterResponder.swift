import EventLoop

/// A handler for one route.
public typealias RouteHandler = @Sendable @LoopActor (Request) async -> Response

/// An `HTTPResponder` made of a `Router`: the library API's usual way to serve your own handlers.
///
///     var routes = Router<RouteHandler>()
///     routes.get("/hello/{name}") { request in .text("Hello, \(request.parameters["name"] ?? "")") }
///     let responder = RouterResponder(routes)
public struct RouterResponder: HTTPResponder {
    public let router: Router<RouteHandler>

    public init(_ router: Router<RouteHandler>) { self.router = router }

    @LoopActor
    public func respond(to request: Request) async -> Response {
        switch route(request) {
        case let .route(route): await route.handler(request)
        case let .answer(response): response
        }
    }

    /// What `respond` does before awaiting: the route whose handler to call (the parameters
    /// bound to the request), or the answer when no route takes the request. The HTTP
    /// connection calls it directly, so the handler is the only async call a request makes.
    enum Routed {
        case route(Router<RouteHandler>.Route)
        case answer(Response)
    }

    @LoopActor
    func route(_ request: Request) -> Routed {
        let method = request.method.rawValue
        let path = request.path
        if let route = router.find(method: method, path: path, binding: &request.boundParameters) { return .route(route) }
        switch router.refusal(for: path) {
        case let .methodNotAllowed(allowed):
            var response = Response.text("method not allowed\n", status: .methodNotAllowed)
            response.headers.append(("Allow", allowed.joined(separator: ", ")))
            return .answer(response)
        case .notFound, .found:  // a refusal is never `.found`
            return .answer(.text("not found\n", status: .notFound))
        }
    }
}
