import Channel
import Echo
import HTTPServer
import WebApp
import EventLoop
import Posix
import Settings

/// A service the `supervisor` command can run, by name (`--app echo`).
///
/// Programs that embed the supervisor register their own apps next to the built-in ones; the
/// factory runs in each worker, after fork, on the worker's loop.
public struct App: Sendable {
    public let name: String
    /// Where it listens when no `--bind` is given.
    public let defaultBind: SocketAddress
    /// Given the configuration (in the master), returns the factory each worker runs after fork,
    /// with what it was launched with (its slot, its seat in the shared counters).
    public let makeService: @Sendable (Configuration) -> @LoopActor (WorkerLaunch) throws -> any Service

    public init(name: String, defaultBind: SocketAddress,
                makeService: @escaping @Sendable (Configuration) -> @LoopActor (WorkerLaunch) throws -> any Service) {
        self.name = name
        self.defaultBind = defaultBind
        self.makeService = makeService
    }

    /// The built-in web app on 127.0.0.1:8080.
    public static let http = App(name: "http", defaultBind: .ipv4(host: "127.0.0.1", port: 8080)) { config in
        var settings = HTTPSettings()
        settings.keepAliveTimeout = config.keepaliveTimeout
        settings.limits.maxBodyLength = config.maxBody
        settings.limits.maxRequestLineLength = config.maxRequestLine
        settings.limits.maxHeaderBlockLength = config.maxHeaderSize
        settings.limits.maxHeaderCount = config.maxHeaders
        settings.headerTimeout = config.headerTimeout
        settings.trustedProxies = config.forwardedAllowIPs
        settings.proxyProtocol = config.proxyProtocol
        settings.bodyTimeout = config.bodyTimeout
        return { launch in
            // In the worker, after fork: the pool's threads and the folder's descriptor are its own.
            let uploads = UploadLimit(counters: launch.shared, seat: launch.seat, limit: config.maxUploads)
            let files = try config.root.map { (root) throws in try FileServer(root: root, pool: BlockingPool(), uploads: uploads) }
            let accessLog = try config.accessLog.map { (path) throws in try AccessLog(path: path) }
            return HTTPService(responder: RouterResponder(BuiltInApp.routes(files: files)), settings: settings, accessLog: accessLog)
        }
    }

    /// The line-echo service on 127.0.0.1:2007.
    public static let echo = App(name: "echo", defaultBind: .ipv4(host: "127.0.0.1", port: 2007)) { config in
        { _ in LineEchoService(idleTimeout: config.idleTimeout) }
    }
}
