import EventLoop
import HTTPServer
import Posix

/// Serves connections with an `HTTPService` on the test's loop, as a worker does: adopt the
/// descriptor, `serve`, close.
struct HTTPHarness {
    let testLoop: TestLoop
    let service: HTTPService

    /// A connection being served, and the client at its other end.
    struct Served {
        let client: RawHTTPClient
        /// Set once the service is done with the connection and it is closed.
        let done: Outcome<Bool>
        /// The server's end, to look at its socket options (not to use: the service owns it).
        let serverDescriptor: CInt
    }

    init(_ testLoop: TestLoop, routes: Router<RouteHandler>, settings: HTTPSettings = HTTPSettings()) {
        self.init(testLoop, responder: RouterResponder(routes), settings: settings)
    }

    init(_ testLoop: TestLoop, responder: some HTTPResponder, settings: HTTPSettings = HTTPSettings()) {
        self.testLoop = testLoop
        service = LoopActor.assumeIsolated { HTTPService(responder: responder, settings: settings) }
    }

    /// A new connection (a socket pair, or loopback TCP where TCP's behaviour matters), served.
    func connect(tcp: Bool = false) throws -> Served {
        let (fd, peer) = tcp ? try SocketPair.tcp(testLoop) : try SocketPair.unix(testLoop)
        let service = service
        let done = testLoop.spawn { () -> Bool in
            let connection: Connection
            do {
                connection = try Connection(adopting: fd)
            } catch {
                fd.close()
                return false
            }
            await service.serve(connection)
            connection.close()
            return true
        }
        return Served(client: try RawHTTPClient(peer), done: done, serverDescriptor: fd.rawValue)
    }

    /// Whether the service is done with `served`'s connection.
    func isDone(_ served: Served) -> Bool { testLoop.value(of: served.done) != nil }

    /// The client closes; the service must then be done with the connection.
    func finish(_ served: Served) throws {
        served.client.peer.close()
        _ = try testLoop.result(of: served.done, "the service to be done with the connection")
    }
}

/// The handlers the HTTP tests serve.
enum TestRoutes {
    /// - `GET /hello/{name}`: `Hello, {name}`.
    /// - `POST /echo`: reads the whole body and answers with it.
    /// - `POST /echo-later`, `GET /later`: wait for `gate` first (then echo, or answer `later`).
    /// - `POST /ignore`: answers `ignored` without reading the body.
    static func make(gate: Gate) -> Router<RouteHandler> {
        var router = Router<RouteHandler>()
        router.get("/hello/{name}") { request in .text("Hello, \(request.parameters["name"] ?? "")") }
        router.post("/echo") { request in await echo(request) }
        router.post("/echo-later") { request in
            await gate.wait()
            return await echo(request)
        }
        router.get("/later") { _ in
            await gate.wait()
            return .text("later")
        }
        router.post("/ignore") { _ in .text("ignored") }
        return router
    }

    @LoopActor
    static func echo(_ request: Request) async -> Response {
        var bytes: [UInt8] = []
        do {
            while let piece = try await request.body.next() { bytes.append(contentsOf: piece) }
        } catch {
            return .text("cannot read the body: \(error)\n", status: .badRequest)
        }
        return Response(status: .ok, body: .bytes(bytes))
    }
}
