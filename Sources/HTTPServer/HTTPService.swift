import EventLoop
import HTTP
import Posix

/// Timeouts and limits of the HTTP server.
public struct HTTPSettings: Sendable, Equatable {
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
    /// Every connection must start with a PROXY protocol header; its source address is the peer.
    public var proxyProtocol = false
    /// Peers whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed.
    public var trustedProxies: [AddressRange] = [.loopbackV4, .loopbackV6]

    public init() {}
}

/// Serves HTTP/1.1 on each connection a worker accepts, answering with a `HTTPResponder`.
@LoopActor
public final class HTTPService: Service {
    let responder: any HTTPResponder
    /// The responder when it is a router without middleware: then a request's route is found
    /// without an async call.
    let router: RouterResponder?
    let settings: HTTPSettings
    /// `settings.keepAliveTimeout` in nanoseconds, converted once (`Duration.nanoseconds` costs
    /// 128-bit arithmetic, ~200 instructions).
    let keepAliveNanoseconds: Int64
    let accessLog: AccessLog?
    // Unchecked exclusivity (a checked access cost a `swift_beginAccess` per response; DESIGN.md).
    // Safe because no access to it overlaps another: no `inout` access spans a suspension point
    // or a call that touches it. It is not about threads.
    @exclusivity(unchecked) var dates = DateCache()

    public init(responder: any HTTPResponder, settings: HTTPSettings = HTTPSettings(), accessLog: AccessLog? = nil) {
        self.responder = responder
        router = (responder as? RouterResponder).flatMap { $0.hasMiddleware ? nil : $0 }
        self.settings = settings
        keepAliveNanoseconds = settings.keepAliveTimeout.nanoseconds
        self.accessLog = accessLog
    }

    public func reopenLogs() throws { try accessLog?.reopen() }

    public func serve(_ connection: Connection) async {
        let http = HTTPConnection(connection: connection, service: self)
        await http.run()
    }
}
