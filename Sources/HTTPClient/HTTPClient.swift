import EventLoop
import HTTP
import Posix

/// An async HTTP/1.1 client that runs on the worker's loop (no thread, no hop), or in a plain
/// program through `HTTPClient.run`.
///
///     let client = HTTPClient()
///     let answer = try await client.get("http://10.0.0.7:8080/price?item=3", upTo: 1 << 20)
///     try await client.execute(.init(.get, url)) { response in
///         try await response.forEachChunk { bytes in … }   // streamed, never held whole
///     }
///
/// Connections are pooled per origin with keep-alive (at most `maxConnectionsPerOrigin` each,
/// further requests wait their turn; idle ones close after `idleTimeout`). Host names are
/// resolved on a `BlockingPool` thread, never on the loop; IP literals and unix sockets need no
/// resolution. No TLS: `https://` is refused (the reverse proxy terminates TLS). Redirects are not
/// followed: a 3xx is returned as it is, with its `Location`.
@LoopActor
public final class HTTPClient {
    public struct Configuration: Sendable {
        /// How long a connect may take, per address tried.
        public var connectTimeout: Duration = .seconds(10)
        /// How long the server may stay silent (or not take our bytes) before the request fails.
        public var readTimeout: Duration = .seconds(30)
        /// How long a whole exchange may take, head to last body byte; none by default (a large
        /// download is not an error), since the two above already stop a server that stalls.
        public var totalTimeout: Duration?
        public var maxConnectionsPerOrigin = 8
        /// How long a keep-alive connection may sit idle in the pool (servers close theirs after
        /// 60–75 s: nginx, ours with `--keepalive-timeout`); shorter, so ours closes first.
        public var idleTimeout: Duration = .seconds(20)

        public init() {}
    }

    public let configuration: Configuration
    private let pool: ConnectionPool
    private let resolver: BlockingPool

    /// Connections opened so far (what pooled reuse saves; a test's and a benchmark's figure).
    public var connectionsOpened: Int { pool.connectionsOpened }

    /// `blockingPool` resolves host names (a one-thread pool of the client's own by default,
    /// whose thread starts at the first name to resolve).
    public init(configuration: Configuration = Configuration(), blockingPool: BlockingPool? = nil) {
        self.configuration = configuration
        pool = ConnectionPool(limit: configuration.maxConnectionsPerOrigin, idleTimeout: configuration.idleTimeout)
        resolver = blockingPool ?? BlockingPool(threads: 1)
    }

    /// Closes the idle connections (call when done, or let the process exit). A client let go
    /// closes them too: one made per request and dropped leaks no socket.
    public func shutdown() { pool.closeIdle() }

    isolated deinit { pool.closeIdle() }

    /// `GET url`, the body collected up to `limit` bytes (more is an error, not a larger array).
    public func get(_ url: String, headers: [(name: String, value: String)] = [], upTo limit: Int) async throws -> CollectedResponse {
        try await execute(Request(.get, url, headers: headers)) { response in
            CollectedResponse(head: response.head, body: try await response.collect(upTo: limit))
        }
    }

    /// Sends `request` and gives the response to `handle` once its head has arrived; the body is
    /// read there, as `handle` chooses. When `handle` returns, a connection whose response was read
    /// to the end goes back to the pool; one with body left unread is closed (never reused with
    /// bytes pending). An idempotent request with a replayable body is sent once more on a new
    /// connection if a reused one turns out to have been closed by the server.
    public func execute<Result>(_ request: Request, _ handle: (Response) async throws -> Result) async throws -> Result {
        var url = try ClientURL(parsing: request.url)
        if let path = request.unixSocket { url = url.through(unixSocket: path) }
        let head = try request.encodedHead(for: url)
        let timer = ExchangeTimer(loop: EventLoop.current, description: "\(request.method) \(request.url)",
                                  readTimeout: configuration.readTimeout, total: configuration.totalTimeout)
        var attempt = 0
        while true {
            attempt += 1
            let connection = try await connection(to: url.origin, timer: timer)
            let response: Response
            do {
                connection.expectResponse(to: request.method)
                try await connection.send(head, request.body, timer: timer)
                response = try await readHead(connection, timer: timer)
            } catch {
                pool.closed(connection)
                let retry = attempt == 1 && connection.exchanges > 0 && !connection.receivedAny && request.body.isReplayable
                    && request.method.isIdempotent && (error.code == .connectionFailed || error.code == .truncated)
                if retry { continue }
                throw error
            }
            do {
                let result = try await handle(response)
                pool.release(connection, reusable: response.isComplete && response.head.keepAlive && connection.isReusable)
                return result
            } catch {
                pool.closed(connection)
                throw error
            }
        }
    }

    private func readHead(_ connection: ClientConnection, timer: ExchangeTimer) async throws(HTTPClientError) -> Response {
        switch try await connection.next(timer: timer, bodyBytes: 0) {
        case .head(let head):
            return Response(head: head, connection: connection, timer: timer)
        case .body, .end, .needMore, .error:
            preconditionFailure("a response starts with its head")
        }
    }

    /// A pooled connection to `origin`, or a new one: resolved off the loop, each address tried
    /// in turn within the connect timeout.
    private func connection(to origin: Origin, timer: ExchangeTimer) async throws(HTTPClientError) -> ClientConnection {
        if let idle = try await pool.acquire(origin, timer: timer) { return idle }
        do throws(HTTPClientError) {
            let addresses = try await addresses(of: origin, timer: timer)
            var failures: [String] = []
            for address in addresses {
                let limit = try timer.budget(configuration.connectTimeout)
                do {
                    return ClientConnection(origin: origin, connection: try await Connection.connect(to: address, timeout: limit))
                } catch {
                    failures.append("\(error)")
                }
            }
            throw HTTPClientError(.connect, "\(timer.description): cannot connect: \(failures.joined(separator: "; "))")
        } catch {
            pool.slotFreed(origin)
            throw error
        }
    }

    private func addresses(of origin: Origin, timer: ExchangeTimer) async throws(HTTPClientError) -> [SocketAddress] {
        switch origin {
        case let .unix(path):
            return [.unix(path: path)]
        case let .tcp(host, port):
            if let literal = try? SocketAddress(parsing: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)") { return [literal] }
            do {
                return try await resolver.run { () throws(AddressResolver.Failure) -> [SocketAddress] in
                    try AddressResolver.resolve(host: host, port: port)
                }
            } catch {
                throw HTTPClientError(.resolution, "\(timer.description): \(error)")
            }
        }
    }
}

extension HTTPClient {
    /// Runs `body` with a client on a loop booted for it, in a plain program (a script's
    /// `main.swift`; no master, no worker): returns what `body` returns, or throws what it throws,
    /// once it is done. Inside a worker, create an `HTTPClient` instead: the loop is already there.
    public nonisolated static func run<Result: Sendable>(
        configuration: Configuration = Configuration(), _ body: @escaping @Sendable @LoopActor (HTTPClient) async throws -> Result
    ) throws -> Result {
        let outcome = Outcome<Result>()
        try EventLoop.runStandalone {
            let client = HTTPClient(configuration: configuration)
            do { outcome.value = .success(try await body(client)) } catch { outcome.value = .failure(error) }
            client.shutdown()
        }
        guard let value = outcome.value else { preconditionFailure("the loop stopped before the client's task ended") }
        return try value.get()
    }
}

/// Where `run`'s task leaves its result for the thread that turned the loop (the same thread).
private final class Outcome<Value>: @unchecked Sendable {
    var value: Swift.Result<Value, any Error>?
}

extension HTTPMethod {
    /// RFC 9110 §9.2.2: safe to send twice.
    var isIdempotent: Bool {
        switch self {
        case .get, .head, .put, .delete, .options, .trace: true
        case .post, .patch, .connect, .other: false
        }
    }
}

extension ClientURL {
    /// The same request-target and `Host`, sent through a unix socket.
    func through(unixSocket path: String) -> ClientURL {
        ClientURL(origin: .unix(path: path), target: target, hostField: hostField, description: description)
    }
}
