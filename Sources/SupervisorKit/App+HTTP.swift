import EventLoop
import HTTPServer
import Settings
import WebApp

/// What the built-in http app runs with: the server's timeouts and limits, and the web app's own
/// settings. One `Setting` whose fields its options fill in, so nothing is copied by hand.
public struct HTTPAppSettings: Sendable, Equatable {
    public var server = HTTPSettings()
    /// The folder whose files are listed, served and accepted.
    public var root: String?
    /// Where the access log goes (`-`: standard output); nil: no access log.
    public var accessLog: String?
    /// Uploads in progress across all workers; past it, 503 with Retry-After.
    public var maxUploads = 100

    public init() {}
}

extension App {
    public static let httpSettings = Setting("http", default: HTTPAppSettings())

    /// The http app's flags and config keys. Its defaults are `HTTPAppSettings()`'s, as the help
    /// texts say.
    public static let httpOptions: [Option] = [
        http("keepalive-timeout", "DURATION", "HTTP: close a keep-alive connection idle this long (default 5s)", \.server.keepAliveTimeout) {
            try Values.duration($0)
        },
        http("header-timeout", "DURATION", "HTTP: a request head must arrive within this, else 408 (default 10s)", \.server.headerTimeout) {
            try Values.duration($0)
        },
        http("body-timeout", "DURATION", "HTTP: a request body may pause at most this long (default 30s)", \.server.bodyTimeout) {
            try Values.duration($0)
        },
        http("root", "DIR", "HTTP: list and serve the files of this folder", \.root) { try Values.path($0) },
        http("max-body", "SIZE", "HTTP: largest request body, e.g. 10M or 1G (default 1G)", \.server.limits.maxBodyLength) { try Values.size($0) },
        http("max-request-line", "SIZE", "HTTP: longest request line, else 414 (default 8K)", \.server.limits.maxRequestLineLength) {
            try Values.size($0)
        },
        http("max-header-size", "SIZE", "HTTP: largest header block, else 431 (default 32K)", \.server.limits.maxHeaderBlockLength) {
            try Values.size($0)
        },
        http("max-headers", "N", "HTTP: most header fields, else 431 (default 100)", \.server.limits.maxHeaderCount) {
            try Values.integer($0, in: 1...10_000)
        },
        http("max-uploads", "N", "HTTP: uploads in progress across all workers (default 100)", \.maxUploads) { try Values.integer($0, in: 1...1_000_000) },
        http("forwarded-allow-ips", "LIST",
             "HTTP: comma-separated IPs/CIDRs whose X-Forwarded-For/-Proto are believed, * for any (default 127.0.0.1,::1)",
             \.server.trustedProxies) { try Values.addressRanges($0) },
        .flag("proxy-protocol", "HTTP: require a PROXY protocol v1/v2 header on every connection (behind HAProxy, AWS NLB)",
              setting: httpSettings, field: \.server.proxyProtocol),
        http("access-log", "PATH", "HTTP: write an access log (combined format + seconds) here; - for stdout", \.accessLog) { try Values.path($0) },
    ]

    private static func http<Value>(_ name: String, _ valueName: String, _ help: String,
                                    _ field: WritableKeyPath<HTTPAppSettings, Value> & Sendable,
                                    parse: @escaping @Sendable (String) throws -> Value) -> Option {
        .value(name, valueName, help, setting: httpSettings, field: field, parse: parse)
    }

    /// The built-in web app on 127.0.0.1:8080.
    public static let http = App(name: "http", defaultBind: .ipv4(host: "127.0.0.1", port: 8080), options: httpOptions) { config in
        let settings = config[httpSettings]
        return { launch in
            // In the worker, after fork: the pool's threads and the folder's descriptor are its own.
            let uploads = UploadLimit(counters: launch.shared, seat: launch.seat, limit: settings.maxUploads)
            let files = try settings.root.map { (root) throws in try FileServer(root: root, pool: BlockingPool(), uploads: uploads) }
            let accessLog = try settings.accessLog.map { (path) throws in try AccessLog(path: path) }
            return HTTPService(responder: RouterResponder(BuiltInApp.routes(files: files)), settings: settings.server, accessLog: accessLog)
        }
    }
}
