import EventLoop
import HTTP
import WebSocket

/// What a WebSocket route runs once the handshake is done: it owns the session until it returns
/// (the session is then closed with 1000, or 1011 if it threw).
public typealias WebSocketHandler = @Sendable @LoopActor (WebSocketSession) async throws -> Void

/// Limits and timeouts of a WebSocket route.
public struct WebSocketSettings: Sendable, Equatable {
    /// A message (all its fragments) over this is refused with 1009, from its declared length.
    public var maxMessageSize = 16 << 20
    /// A session quiet for this long is pinged; quiet for as long again, it is closed (1001).
    public var pingInterval: Duration = .seconds(30)
    /// How long a frame may wait for the client to read it.
    public var sendTimeout: Duration = .seconds(30)
    /// How long our close frame waits for the client's before the socket is closed anyway.
    public var closeTimeout: Duration = .seconds(2)

    public init() {}
}

/// The 101 response's body: what the connection hands its socket to once the 101 is written.
@LoopActor
public final class WebSocketHandoff: Sendable {
    let request: Request
    let settings: WebSocketSettings
    let handler: WebSocketHandler

    init(request: Request, settings: WebSocketSettings, handler: @escaping WebSocketHandler) {
        self.request = request
        self.settings = settings
        self.handler = handler
    }
}

extension Status {
    public static let switchingProtocols = Status(101, "Switching Protocols")
    public static let upgradeRequired = Status(426, "Upgrade Required")
}

extension Router where Handler == RouteHandler {
    /// A route that accepts a WebSocket upgrade (RFC 6455 §4) and runs `handler` on the session:
    ///
    ///     router.webSocket("/ws/echo") { session in
    ///         for try await message in session.messages { try await session.send(message) }
    ///     }
    ///
    /// A request that is not a valid upgrade gets 400, or 426 without `Upgrade: websocket` or
    /// with a version other than 13.
    public mutating func webSocket(_ pattern: String, settings: WebSocketSettings = WebSocketSettings(),
                                   _ handler: @escaping WebSocketHandler) {
        get(pattern) { request in WebSocketUpgrade.respond(to: request, settings: settings, handler: handler) }
    }
}

/// The server's half of the opening handshake (RFC 6455 §4.2).
public enum WebSocketUpgrade {
    @LoopActor
    public static func respond(to request: Request, settings: WebSocketSettings, handler: @escaping WebSocketHandler) -> Response {
        let headers = request.head.headers
        guard hasToken("websocket", in: headers.values(name: "Upgrade")) else {
            var response = Response.text("this resource needs a WebSocket upgrade\n", status: .upgradeRequired)
            response.headers += [("Upgrade", "websocket"), ("Connection", "Upgrade")]
            return response
        }
        guard request.method == .get else { return .text("a WebSocket upgrade must be a GET\n", status: .badRequest) }
        guard request.head.version != .http10 else { return .text("a WebSocket upgrade needs HTTP/1.1\n", status: .badRequest) }
        guard request.head.framing == .noBody || request.head.framing == .contentLength(0) else { return .text("a WebSocket upgrade has no body\n", status: .badRequest) }
        guard hasToken("upgrade", in: headers.values(name: "Connection")) else {
            return .text("a WebSocket upgrade needs Connection: Upgrade\n", status: .badRequest)
        }
        guard headers.values(name: "Sec-WebSocket-Version").map(trimmed) == ["13"] else {
            var response = Response.text("only WebSocket version 13 is supported\n", status: .upgradeRequired)
            response.headers.append(("Sec-WebSocket-Version", "13"))
            return response
        }
        let keys = headers.values(name: "Sec-WebSocket-Key")
        guard keys.count == 1, let key = keys.first.map(trimmed), Base64.decode(key)?.count == 16 else {
            return .text("Sec-WebSocket-Key must be one base64 value of 16 bytes\n", status: .badRequest)
        }
        return Response(status: .switchingProtocols,
                        headers: [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                  ("Sec-WebSocket-Accept", FrameEncoder.acceptValue(forKey: key))],
                        body: .webSocket(WebSocketHandoff(request: request, settings: settings, handler: handler)))
    }

    /// Whether a comma-separated list of tokens in any of `values` holds `token` (any case).
    static func hasToken(_ token: String, in values: [String]) -> Bool {
        values.contains { value in value.split(separator: ",").contains { trimmed(String($0)).lowercased() == token } }
    }

    static func trimmed(_ text: String) -> String {
        var slice = Substring(text)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice.removeLast() }
        return String(slice)
    }
}
