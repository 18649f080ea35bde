import EventLoop
import Glibc
import HTTP

/// A request as a handler sees it: the parsed head, the route's parameters, the body as a stream
/// the handler pulls (so the socket is never read faster than the handler consumes), and its
/// connection's `context` (peer, client, local address).
@LoopActor
public final class Request {
    // Unchecked exclusivity (each checked access cost a `swift_beginAccess` and an access-set
    // insert; DESIGN.md). Safe because no access to these fields overlaps another: no `inout`
    // access spans a suspension point or a call that touches the same field. It is not about
    // threads. Behind getters: a handler in another module reading a stored property directly
    // gets the check in its own code, attribute or not (measured: one `swift_beginAccess` per
    // request in the hello route). Variables, because a connection reuses its request object for
    // the next request when nothing else holds it (`reuse`, `clear`): no allocation per request.
    /// The head; nil only while the object waits for its connection's next request, when nothing
    /// but the connection holds it.
    @exclusivity(unchecked) private var storedHead: RequestHead?
    /// The head's bytes (shared with it), for the router: read through the optional head, they
    /// cost a copy of the whole head (~200 instructions).
    @exclusivity(unchecked) private(set) var bytes: [UInt8] = []
    /// Where the target's path lies in `bytes` (up to `?`, if any).
    @exclusivity(unchecked) private(set) var pathRange = 0..<0
    /// `path` and `query`, made on first ask: the router needs neither (it matches `pathRange`).
    @exclusivity(unchecked) private var storedTarget: (path: Substring, query: Substring?)?
    @exclusivity(unchecked) var boundParameters = RouteParameters()
    @exclusivity(unchecked) private var cachedClient: String?
    @exclusivity(unchecked) private var cachedScheme: String?
    @exclusivity(unchecked) private var storedBody: RequestBody

    public var head: RequestHead { storedHead ?? RequestHead.placeholder }
    /// The request's header fields: `request.headers["content-type"]`, in any letter case. Taken
    /// from the head in place: going through `head` copied the whole head, ~250 instructions a
    /// request on the file route (callgrind).
    public var headers: HTTPHeaders { storedHead?.headers ?? RequestHead.placeholder.headers }
    /// The request-target's path, still percent-encoded (`/files/a%20b`).
    public var path: Substring { pathAndQuery.path }
    /// What follows `?`, if anything.
    public var query: Substring? { pathAndQuery.query }

    private var pathAndQuery: (path: Substring, query: Substring?) {
        if let storedTarget { return storedTarget }
        guard let target = storedHead?.target else { return (Substring(), nil) }
        let question = target.utf8.index(target.utf8.startIndex, offsetBy: pathRange.count)
        let split = question == target.endIndex
            ? (path: target[...], query: nil)
            : (path: target[..<question], query: target[target.utf8.index(after: question)...])
        storedTarget = split
        return split
    }

    /// Route parameters, still percent-encoded.
    public var parameters: RouteParameters { boundParameters }
    public var body: RequestBody { storedBody }

    /// The client's address: the peer's, or what a trusted proxy says (`--forwarded-allow-ips`);
    /// also `context.client`. Worked out on first use: a request that never asks costs no syscall
    /// and no header lookup.
    public var clientAddress: String {
        remembered(&cachedClient) { connection in
            ForwardedFor.client(peer: connection.peerHost, forwardedFor: head.headers.values(name: "X-Forwarded-For"),
                                trusted: connection.settings.trustedProxies)
        }
    }

    /// `http`, or what a trusted proxy says in `X-Forwarded-Proto`; also `context.scheme`.
    public var scheme: String {
        remembered(&cachedScheme) { connection in
            ForwardedFor.scheme(peer: connection.peerHost, forwardedProto: head.headers.first(name: "X-Forwarded-Proto"),
                                trusted: connection.settings.trustedProxies)
        }
    }

    /// `cache`, or what `work` makes of the connection, kept in `cache` for the next ask.
    private func remembered(_ cache: inout String?, _ work: (HTTPConnection) -> String) -> String {
        if let cache { return cache }
        let value = work(storedBody.source)
        cache = value
        return value
    }

    init(head: consuming RequestHead, body: RequestBody) {
        storedBody = body
        setHead(consume head)
    }

    /// Read off the stored head in place: going through `head` copied the whole head (two
    /// arrays: a retain and a release each) for the router's one look at the method.
    public var method: HTTPMethod { storedHead?.method ?? RequestHead.placeholder.method }

    /// Makes this object `connection`'s next request (only once nothing else holds it).
    func reuse(head: consuming RequestHead, bodyIsEmpty: Bool, for connection: HTTPConnection) {
        storedBody.serve(connection)
        storedBody.isFinished = bodyIsEmpty
        storedBody.wasDropped = false
        setHead(consume head)
    }

    /// Its response is done and something else keeps it (a task, a session, a list): what it
    /// needs of its connection is worked out now, and its body no longer reads from it (the
    /// connection serves the next request, or is gone). Not on the hot path: only for a request
    /// kept past its response.
    func detach() {
        _ = clientAddress
        _ = scheme
        storedBody.detach()
    }

    /// Whether nothing but this request holds its body (a handler may keep the body alone).
    var holdsBodyAlone: Bool { isKnownUniquelyReferenced(&storedBody) }

    /// Lets go of the request's head (and so of the parser's buffers it shares) while the object
    /// waits for the next request.
    func clear() {
        storedHead = nil
        bytes = []
        pathRange = 0..<0
        storedTarget = nil
        boundParameters = RouteParameters()
        cachedClient = nil
        cachedScheme = nil
    }

    private func setHead(_ head: consuming RequestHead) {
        let target = head.targetRange
        bytes = head.bytes
        // By bytes: no string is made unless a handler asks for `path` or `query`.
        let question = bytes.withUnsafeBytes { raw -> Int? in
            guard let base = raw.baseAddress,
                  let found = memchr(base + target.lowerBound, CInt(UInt8(ascii: "?")), target.count) else { return nil }
            return base.distance(to: UnsafeRawPointer(found))
        }
        pathRange = target.lowerBound..<(question ?? target.upperBound)
        storedTarget = nil
        storedHead = consume head
    }
}

/// The body of the request being served, read on demand from its connection.
@LoopActor
public final class RequestBody {
    /// The connection being served. A variable: a request object waiting in the loop's free
    /// list (`ConnectionBuffers`) is taken by whichever connection reads a request next.
    @exclusivity(unchecked) private(set) unowned var source: HTTPConnection
    /// `source`'s identity, to tell without loading the `unowned` reference (a retain and a
    /// release) that it is already the right one. Its address cannot be another connection's
    /// meanwhile: an `unowned` reference keeps the object's memory until it is let go.
    @exclusivity(unchecked) private var sourceIdentity: ObjectIdentifier
    // Unchecked exclusivity (each checked access cost a `swift_beginAccess` and an access-set
    // insert, twice per request; DESIGN.md). Safe because no access to these fields overlaps another:
    // no `inout` access spans a suspension point or a call that touches the same field. It is not
    // about threads.
    @exclusivity(unchecked) public internal(set) var isFinished: Bool
    /// The server read and dropped what the handler left of it, after the response: a later
    /// `next` (a kept request's) is an error, not an end that looks like the whole body.
    @exclusivity(unchecked) var wasDropped = false

    init(source: HTTPConnection, empty: Bool) {
        self.source = source
        sourceIdentity = ObjectIdentifier(source)
        isFinished = empty
    }

    /// Makes `connection` the source (the object comes from the loop's free list).
    func serve(_ connection: HTTPConnection) {
        guard sourceIdentity != ObjectIdentifier(connection) else { return }
        source = connection
        sourceIdentity = ObjectIdentifier(connection)
    }

    /// What a request kept past its response remembers of its connection (`detach`); nil while
    /// it is being served. Never read through `source` once set: the connection may be gone.
    @exclusivity(unchecked) private(set) var detachedPeer: (host: String, proxied: String?)?

    func detach() {
        guard detachedPeer == nil else { return }
        detachedPeer = (source.connection.peerHost, source.proxiedPeer)
    }

    /// The next piece of the body, or nil at its end. The bytes are valid until the next call.
    /// Throws when the client sends a malformed body, goes silent past the body timeout, or leaves,
    /// or when the request's response is done (a kept request's unread body is gone: `.closed`).
    public func next() async throws(HTTPServerError) -> UnsafeRawBufferPointer? {
        guard !isFinished else {
            if wasDropped { throw HTTPServerError(kind: .closed) }
            return nil
        }
        guard detachedPeer == nil else { throw HTTPServerError(kind: .closed) }
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
