import EventLoop
import HTTP

/// A request as a handler sees it: the parsed head, the route's parameters, the body as a stream
/// the handler pulls (so the socket is never read faster than the handler consumes), and its
/// connection's `context` (peer, client, local address).
@LoopActor
public final class Request {
    public let head: RequestHead
    /// The request-target's path, still percent-encoded (`/files/a%20b`).
    public let path: Substring
    /// What follows `?`, if anything.
    public let query: Substring?
    /// Route parameters, still percent-encoded.
    public var parameters: RouteParameters { boundParameters }
    // Unchecked exclusivity (each checked access cost a `swift_beginAccess` and an access-set
    // insert; DESIGN.md). Safe because no access to these fields overlaps another: no `inout`
    // access spans a suspension point or a call that touches the same field. It is not about
    // threads. Behind a getter: a handler in another module reading a stored property directly
    // gets the check in its own code, attribute or not (measured: one `swift_beginAccess` per
    // request in the hello route).
    @exclusivity(unchecked) var boundParameters = RouteParameters()
    public let body: RequestBody

    /// The client's address: the peer's, or what a trusted proxy says (`--forwarded-allow-ips`);
    /// also `context.client`. Worked out on first use: a request that never asks costs no syscall
    /// and no header lookup.
    public private(set) lazy var clientAddress: String = ForwardedFor.client(
        peer: body.source.peerHost, forwardedFor: head.headers.values(name: "X-Forwarded-For"),
        trusted: body.source.settings.trustedProxies)

    /// `http`, or what a trusted proxy says in `X-Forwarded-Proto`; also `context.scheme`.
    public private(set) lazy var scheme: String = ForwardedFor.scheme(
        peer: body.source.peerHost, forwardedProto: head.headers.first(name: "X-Forwarded-Proto"),
        trusted: body.source.settings.trustedProxies)

    init(head: RequestHead, body: RequestBody) {
        self.head = head
        var target = head.target
        // By bytes, not Characters: no grapheme breaking on the hot path.
        if let offset = target.withUTF8({ $0.firstIndex(of: UInt8(ascii: "?")) }) {
            let question = target.utf8.index(target.utf8.startIndex, offsetBy: offset)
            path = target[..<question]
            query = target[target.utf8.index(after: question)...]
        } else {
            path = target[...]
            query = nil
        }
        self.body = body
    }

    public var method: HTTPMethod { head.method }
}

/// The body of the request being served, read on demand from its connection.
@LoopActor
public final class RequestBody {
    unowned let source: HTTPConnection
    // Unchecked exclusivity (each checked access cost a `swift_beginAccess` and an access-set
    // insert, twice per request; DESIGN.md). Safe because no access to these fields overlaps another:
    // no `inout` access spans a suspension point or a call that touches the same field. It is not
    // about threads.
    @exclusivity(unchecked) public internal(set) var isFinished: Bool

    init(source: HTTPConnection, empty: Bool) {
        self.source = source
        isFinished = empty
    }

    /// The next piece of the body, or nil at its end. The bytes are valid until the next call.
    /// Throws when the client sends a malformed body, goes silent past the body timeout, or leaves.
    public func next() async throws(HTTPServerError) -> UnsafeRawBufferPointer? {
        guard !isFinished else { return nil }
        let piece = try await source.nextBodyPiece()
        if piece == nil { isFinished = true }
        return piece
    }
}

/// Why a request could not be read to its end.
public struct HTTPServerError: Error, CustomStringConvertible {
    public enum Kind: Sendable { case malformed(HTTPParseError), timedOut, closed, cancelled }
    public let kind: Kind
    public var description: String {
        switch kind {
        case let .malformed(error): "malformed request: \(error)"
        case .timedOut: "the client went silent"
        case .closed: "the client closed the connection"
        case .cancelled: "the server is shutting down"
        }
    }
}

/// What answers requests: the built-in app, or a user's router.
public protocol HTTPResponder: Sendable {
    @LoopActor func respond(to request: Request) async -> Response
}
