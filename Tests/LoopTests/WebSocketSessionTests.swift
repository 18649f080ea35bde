import EventLoop
import HTTPServer
import Posix
import WebSocket
import XCTest

/// WebSocket sessions served in-process (`HTTPService` over a socket pair, the loop driven by the
/// test), with raw frames from the client side: the handshake and the hand-off, each protocol
/// error and the close code it gets, auto-pong, the ping timeout, bad upgrades.
final class WebSocketSessionTests: HTTPServingTestCase {
    let mask: (UInt8, UInt8, UInt8, UInt8) = (1, 2, 3, 4)
    let upgrade = "GET /ws/echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

    private func webSocketHarness(_ configure: (inout WebSocketSettings) -> Void = { _ in },
                                  handler: @escaping WebSocketHandler = { session in
                                      for try await message in session.messages { try await session.send(message) }
                                  }) -> HTTPHarness {
        var settings = WebSocketSettings()
        settings.maxMessageSize = 1000
        configure(&settings)
        var routes = TestRoutes.make(gate: gate)
        routes.webSocket("/ws/echo", settings: settings, handler)
        return HTTPHarness(testLoop, routes: routes)
    }

    /// The client's end of a session: the 101's head, then the server's frames, read as a client.
    final class Client {
        let peer: Peer
        var reader = MessageReader(maxMessageSize: 1 << 20, requireMask: false)
        var head = ""
        private var cursor = 0

        init(_ peer: Peer) throws {
            self.peer = peer
            try peer.startReading()
        }

        /// Drives the loop until the 101's head has arrived; returns it.
        func readHead() throws -> String {
            let end: [UInt8] = [13, 10, 13, 10]
            var found: Int?
            try peer.testLoop.run(until: "the response head") {
                found = peer.received.indices.first { peer.received[$0...].starts(with: end) }
                return found != nil || peer.isFinished
            }
            guard let found else { return "" }
            head = String(decoding: peer.received[..<found], as: UTF8.self)
            cursor = found + 4
            return head
        }

        /// The server's next frame event; nil when the connection ended first.
        func next() throws -> MessageReader.Event? {
            var event: MessageReader.Event?
            try peer.testLoop.run(until: "a frame from the server") {
                let bytes = Array(peer.received[cursor...])
                let (consumed, read) = bytes.withUnsafeBytes { reader.read($0) }
                cursor += consumed
                if case .needMore = read { return peer.isFinished } else { event = read }
                return true
            }
            return event
        }
    }

    private func open(_ http: HTTPHarness, sending extra: [UInt8] = []) throws -> (HTTPHarness.Served, Client) {
        let served = try http.connect()
        let client = try Client(served.client.peer)
        try served.client.peer.send(Array(upgrade.utf8) + extra)
        let head = try client.readHead()
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 101 Switching Protocols"), head)
        return (served, client)
    }

    private func frame(_ opcode: Opcode, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        FrameEncoder.frame(opcode, payload, fin: fin, mask: mask)
    }

    /// The server's close code, once it closes, and that it then closes the connection.
    private func closeCode(after bytes: [UInt8], _ http: HTTPHarness, file: StaticString = #filePath, line: UInt = #line) throws -> UInt16? {
        let (served, client) = try open(http)
        try served.client.peer.send(bytes)
        var code: UInt16?
        while let event = try client.next() {
            if case let .close(received, _) = event {
                code = received?.rawValue
                break
            }
        }
        try served.client.peer.send(frame(.close, FrameEncoder.closePayload(.normal, reason: "")))
        try testLoop.run(until: "the server to close the connection") { served.client.peer.isFinished }
        try http.finish(served)
        return code
    }

    func testHandshakeAcceptsAndEchoesThenClosesCleanly() throws {
        let http = webSocketHarness()
        let (served, client) = try open(http)
        XCTAssertTrue(client.head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), client.head)  // RFC 6455 §1.3
        XCTAssertTrue(client.head.contains("Upgrade: websocket\r\n") && client.head.contains("Connection: Upgrade"), client.head)
        XCTAssertFalse(client.head.contains("Content-Length"), client.head)
        try served.client.peer.send(frame(.text, Array("héllo".utf8)))
        XCTAssertEqual(try client.next(), .message(.text("héllo")))
        try served.client.peer.send(frame(.binary, [0, 1, 2], fin: false) + frame(.ping, [7]) + frame(.continuation, [3]))
        XCTAssertEqual(try client.next(), .pong([7]), "a ping between fragments is answered at once")
        XCTAssertEqual(try client.next(), .message(.binary([0, 1, 2, 3])))
        try served.client.peer.send(frame(.close, FrameEncoder.closePayload(.normal, reason: "done")))
        XCTAssertEqual(try client.next(), .close(.normal, reason: ""), "the client's code echoed")
        try testLoop.run(until: "the server to close the connection") { served.client.peer.isFinished }
        try http.finish(served)
    }

    /// Frames sent right behind the upgrade request, in the same write, reach the session.
    func testFramesBehindTheUpgradeRequestAreNotLost() throws {
        let http = webSocketHarness()
        let (served, client) = try open(http, sending: frame(.text, Array("early".utf8)))
        XCTAssertEqual(try client.next(), .message(.text("early")))
        try http.finish(served)
    }

    func testProtocolErrorsCloseWith1002() throws {
        let http = webSocketHarness()
        let cases: [(String, [UInt8])] = [
            ("unmasked frame", FrameEncoder.frame(.text, Array("hi".utf8))),
            ("reserved bit", [0xC1, 0x80, 1, 2, 3, 4]),
            ("reserved opcode", [0x83, 0x80, 1, 2, 3, 4]),
            ("control frame over 125", frame(.ping, [UInt8](repeating: 0, count: 126))),
            ("fragmented control frame", frame(.ping, [], fin: false)),
            ("stray continuation", frame(.continuation, [1])),
        ]
        for (name, bytes) in cases { XCTAssertEqual(try closeCode(after: bytes, http), 1002, name) }
    }

    func testInvalidUTF8ClosesWith1007EvenAcrossFragments() throws {
        let http = webSocketHarness()
        XCTAssertEqual(try closeCode(after: frame(.text, [0xC3, 0x28]), http), 1007)
        XCTAssertEqual(try closeCode(after: frame(.text, [0x61, 0xE2], fin: false) + frame(.continuation, [0x28, 0x80]), http), 1007)
    }

    /// Over `maxMessageSize` (1000 here): refused from the declared length, 1 TiB included.
    func testOversizedMessagesCloseWith1009() throws {
        let http = webSocketHarness()
        XCTAssertEqual(try closeCode(after: [0x82, 0xFF, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4], http), 1009)
        XCTAssertEqual(try closeCode(after: frame(.binary, [UInt8](repeating: 1, count: 600), fin: false)
                                         + frame(.continuation, [UInt8](repeating: 1, count: 401)), http), 1009)
    }

    /// A quiet client is pinged after one interval; one that answers stays, and one that never
    /// does is closed with 1001 after the next.
    func testQuietClientIsPingedAndASilentOneClosed() throws {
        let http = webSocketHarness { $0.pingInterval = .milliseconds(50) }
        let (served, client) = try open(http)
        XCTAssertEqual(try client.next(), .ping([]))
        try served.client.peer.send(frame(.pong, []))
        XCTAssertEqual(try client.next(), .ping([]), "answered: pinged again after another quiet interval")
        XCTAssertEqual(try client.next(), .close(.goingAway, reason: "no answer to ping"))
        try served.client.peer.send(frame(.close, []))
        try testLoop.run(until: "the server to close the connection") { served.client.peer.isFinished }
        try http.finish(served)
    }

    /// A session closed by another task while its handler waits in `messages` (a kick from a
    /// background task): the close goes out, the handler's read takes the client's answer, and the
    /// handler's loop ends. (Two tasks reading at once left the handler waiting forever.)
    func testCloseFromAnotherTaskEndsTheHandlersLoop() throws {
        let handlerEnded = Flag()
        let http = webSocketHarness(handler: { session in
            for try await message in session.messages where message == .text("kick me") {
                Task { await session.close(.normal, reason: "kicked") }  // runs while the loop waits for more
            }
            handlerEnded.isSet = true
        })
        let (served, client) = try open(http)
        try served.client.peer.send(frame(.text, Array("kick me".utf8)))
        XCTAssertEqual(try client.next(), .close(.normal, reason: "kicked"))
        try served.client.peer.send(frame(.close, FrameEncoder.closePayload(.normal, reason: "")))
        try testLoop.run(until: "the handler's loop to end and the connection to close") { handlerEnded.isSet && served.client.peer.isFinished }
        try http.finish(served)
    }

    func testBadUpgradesGetAnHTTPAnswer() throws {
        let http = webSocketHarness()
        let cases: [(String, Int)] = [
            ("GET /ws/echo HTTP/1.1\r\nHost: x\r\n\r\n", 426),
            (upgrade.replacingOccurrences(of: "dGhlIHNhbXBsZSBub25jZQ==", with: "c2hvcnQ="), 400),
            (upgrade.replacingOccurrences(of: "Version: 13", with: "Version: 8"), 426),
            (upgrade.replacingOccurrences(of: "keep-alive, Upgrade", with: "keep-alive"), 400),
            (upgrade.replacingOccurrences(of: "\r\n\r\n", with: "\r\nContent-Length: 2\r\n\r\nab"), 400),
        ]
        for (request, status) in cases {
            let served = try http.connect()
            let reply = try served.client.exchange(request)
            XCTAssertEqual(reply.status, status, request)
            try http.finish(served)
        }
    }
}
