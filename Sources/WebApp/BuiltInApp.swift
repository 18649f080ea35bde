import EventLoop
import HTTPServer

/// The built-in web app (`--app http`): hello, the files of `--root`, and the worker's health.
///
/// `GET /` answers `Hello, World!`, or with a file server lists its folder; `GET|HEAD
/// /files/{name}` sends a file (see `FileServer`); `GET /hello/{name}` answers `Hello, {name}` with the name
/// percent-decoded (invalid encoding → 400); `GET /healthz` answers `ok`, or 503 once this worker is
/// draining, so a load balancer stops sending it new work.
public enum BuiltInApp {
    public static func routes(files: FileServer? = nil) -> Router<RouteHandler> {
        var router = Router<RouteHandler>()
        if let files {
            router.get("/") { request in await files.listing(request) }
            router.get("/files/{name}") { request in await files.file(request) }
            router.put("/files/{name}") { request in await files.upload(request) }
        } else {
            router.get("/") { _ in .text("Hello, World!") }
        }
        router.get("/hello/{name}") { request in
            guard let raw = request.parameters["name"], let name = PercentDecoding.decode(raw) else {
                return .text("the name is not valid percent-encoded UTF-8\n", status: .badRequest)
            }
            return .text("Hello, \(name)")
        }
        router.get("/healthz") { _ in
            EventLoop.current.isDraining ? .text("draining\n", status: .serviceUnavailable) : .text("ok\n")
        }
        return router
    }
}
