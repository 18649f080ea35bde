import EventLoop
import HTTP

/// Timeouts and limits of the HTTP server.
public struct HTTPSettings: Sendable {
    /// An idle keep-alive connection is closed after this.
    public var keepAliveTimeout: Duration = .seconds(5)
    /// A request head must arrive within this (else 408, then close).
    public var headerTimeout: Duration = .seconds(10)
    /// A request body may pause at most this long between two reads.
    public var bodyTimeout: Duration = .seconds(30)
    /// A response the client does not read for this long is abandoned.
    public var writeTimeout: Duration = .seconds(30)
    /// An unread request body up to this size is read and dropped to keep the connection; a larger
    /// one costs the connection instead.
    public var maxDiscardedBody = 1 << 20
    public var limits = RequestParser.Limits()

    public init() {}
}

/// Serves HTTP/1.1 on each connection a worker accepts, answering with a `HTTPResponder`.
@LoopActor
public final class HTTPService: Service {
    let responder: any HTTPResponder
    let settings: HTTPSettings
    var dates = DateCache()

    public init(responder: any HTTPResponder, settings: HTTPSettings = HTTPSettings()) {
        self.responder = responder
        self.settings = settings
    }

    public func serve(_ connection: Connection) async {
        let http = HTTPConnection(connection: connection, service: self)
        await http.run()
    }
}
