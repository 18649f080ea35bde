import EventLoop
import Posix

/// What a handler may know of the connection its request came on: who is at the other end, as
/// connected and as believed, where it connected to, and whether this worker is draining.
///
///     router.get("/whoami") { request in .text("you are \(request.context.client)\n") }
///
/// A view, not a copy: making one allocates nothing, and each value is worked out when asked (the
/// addresses by a syscall, the client by the forwarding rules, once per request), so a handler that
/// never asks pays nothing.
@LoopActor
public struct RequestContext {
    let request: Request
    private var connection: HTTPConnection { request.body.source }

    /// The socket's peer as connected (`203.0.113.7`, `::1`, `unix`): behind a proxy, the proxy.
    public var peer: String { request.body.detachedPeer?.host ?? connection.connection.peerHost }

    /// The connection, or nil for a request kept past its response (it may be gone).
    private var liveConnection: HTTPConnection? { request.body.detachedPeer == nil ? connection : nil }

    /// The socket's peer with its port (`getpeername(2)` on each use); nil once the socket is gone,
    /// and for a request kept past its response.
    public var peerAddress: SocketAddress? { liveConnection.flatMap { try? Socket.peerAddress(of: $0.connection.fd) } }

    /// The address the client connected to, which tells the listeners apart (`getsockname(2)` on
    /// each use); nil once the socket is gone.
    public var localAddress: SocketAddress? { liveConnection.flatMap { try? Socket.localAddress(of: $0.connection.fd) } }

    /// The client a PROXY protocol header named (`--proxy-protocol`); nil without one.
    public var proxiedClient: String? {
        if let detached = request.body.detachedPeer { return detached.proxied }
        return connection.proxiedPeer
    }

    /// The client as believed: the PROXY header's source, else the peer, followed back through
    /// `X-Forwarded-For` for as long as the hops are trusted (`--forwarded-allow-ips`).
    public var client: String { request.clientAddress }

    /// `http`, or what a trusted proxy says in `X-Forwarded-Proto`.
    public var scheme: String { request.scheme }

    /// The worker is draining (reload, stop, recycle): this response is the connection's last, and
    /// long work is better cut short.
    public var isDraining: Bool { EventLoop.current.isDraining }
}

extension Request {
    /// The connection this request came on, as a handler may see it.
    public var context: RequestContext { RequestContext(request: self) }
}
