import EventLoop
import HTTPServer

/// The built-in web app (`--app http`): hello, the files of `--root`, and the worker's health.
///
/// `GET /` answers `Hello, World!`, or with a file server lists its folder; `GET|HEAD
/// /files/{name}` sends a file (see `FileServer`); `GET /hello/{name}` answers `Hello, {name}` with the name
/// percent-decoded (invalid encoding → 400); `GET /healthz` (readiness) answers `ok`, or 503 once
/// this worker is draining or the server is out of rotation (`--shutdown-delay`, `supervisor
/// drain`), so a load balancer stops sending it new work; `GET /livez` (liveness) answers `ok` for
/// as long as the worker's loop runs, draining or not, so an orchestrator never kills a server
/// for draining. `/ws/echo` is a WebSocket echo (each message sent back as it came).
public enum BuiltInApp {
    /// Each handler is declared `throws`, though none throws: a closure that does not is converted
    /// to `RouteHandler` by an async thunk, an extra frame per request (measured: 130 instructions).
    public static func routes(files: FileServer? = nil) -> Router<RouteHandler> {
        var router = Router<RouteHandler>()
        if let files {
            router.get("/") { request throws in await files.listing(request) }
            router.get("/files/{name}") { request throws in
                if let answer = files.fileWithoutWaiting(request) { return answer }
                return await files.file(request)
            }
            router.put("/files/{name}") { request throws in await files.upload(request) }
        } else {
            router.get("/") { _ throws in .text("Hello, World!") }
        }
        router.get("/hello/{name}") { request throws in
            guard let raw = request.parameters["name"], let name = PercentDecoding.decode(raw) else {
                return .text("the name is not valid percent-encoded UTF-8\n", status: .badRequest)
            }
            return .text("Hello, \(name)")
        }
        router.get("/healthz") { _ throws in
            let loop = EventLoop.current
            if loop.isDraining { return .text("draining\n", status: .serviceUnavailable) }
            return loop.isOutOfRotation ? .text("out of rotation\n", status: .serviceUnavailable) : .text("ok\n")
        }
        router.get("/livez") { _ throws in .text("ok\n") }
        // A WebSocket echo: each message back as it came, text or binary.
        router.webSocket("/ws/echo") { session in
            for try await message in session.messages { try await session.send(message) }
        }
        return router
    }
}
