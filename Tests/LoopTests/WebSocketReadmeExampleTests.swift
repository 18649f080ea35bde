import EventLoop
import HTTPServer
import WebSocket
import XCTest

/// The README's WebSocket example is this code, word for word, and it does what the README says.
final class WebSocketReadmeExampleTests: HTTPServingTestCase {
    @LoopActor
    static func readmeRoutes() -> Router<RouteHandler> {
        // README example: begin
        var router = Router<RouteHandler>()
        router.webSocket("/ws/rooms/{room}") { session in
            let room = session.request.parameters["room"] ?? ""
            try await session.send(.text("welcome to \(room)"))
            for try await message in session.messages {
                switch message {
                case let .text(text): try await session.send(.text(text.uppercased()))
                case let .binary(bytes): try await session.send(.binary(bytes.reversed()))
                }
            }
        }
        // README example: end
        return router
    }

    func testReadmeShowsThisExample() throws {
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let begin = try XCTUnwrap(source.range(of: "// README example: begin\n"))
        let end = try XCTUnwrap(source.range(of: "        // README example: end"))
        let example = source[begin.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("        ") ? String($0.dropFirst(8)) : String($0) }.joined(separator: "\n")
        let top = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: top.appendingPathComponent("README.md"), encoding: .utf8)
        XCTAssertTrue(readme.contains("```swift\n" + example), "README.md must show this example unchanged:\n\(example)")
    }

    func testExampleGreetsAndAnswers() throws {
        let http = HTTPHarness(testLoop, routes: LoopActor.assumeIsolated { Self.readmeRoutes() })
        let served = try http.connect()
        let peer = served.client.peer
        try peer.startReading()
        try peer.send("GET /ws/rooms/lobby HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        try peer.send(FrameEncoder.frame(.text, Array("hi".utf8), mask: (9, 8, 7, 6)) + FrameEncoder.frame(.binary, [1, 2, 3], mask: (9, 8, 7, 6)))
        let expected = FrameEncoder.frame(.text, Array("welcome to lobby".utf8)) + FrameEncoder.frame(.text, Array("HI".utf8))
            + FrameEncoder.frame(.binary, [3, 2, 1])
        try testLoop.run(until: "the greeting and two answers") { peer.received.count >= expected.count && peer.text.contains("\r\n\r\n") }
        let head = peer.text.components(separatedBy: "\r\n\r\n")[0]
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 101 "), head)
        XCTAssertEqual(Array(peer.received.suffix(expected.count)), expected)
        try http.finish(served)
    }
}
