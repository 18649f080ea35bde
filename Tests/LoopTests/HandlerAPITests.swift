import EventLoop
import FoundationEssentials
import HTTPServer
import Logging
import Posix
import XCTest

/// The handler API on a real connection, in-process: throwing handlers, bodies collected up to a
/// limit, JSON in and out, query parameters, headers by name, streamed text.
final class HandlerAPITests: HTTPServingTestCase {
    struct Note: Codable, Equatable, Sendable {
        var text: String
        var tags: [String]
    }

    struct Boom: Error, CustomStringConvertible {
        var description: String { "the database is on fire" }
    }

    static func routes() -> Router<RouteHandler> {
        var router = Router<RouteHandler>()
        router.get("/throw") { _ in throw Boom() }
        router.get("/refuse") { _ in throw HTTPError(.forbidden, "not for you") }
        router.post("/bytes") { request in .text("\(try await request.body.collect(upTo: 8).count) bytes\n") }
        router.post("/limited") { request in .text("\(try await request.bytes(upTo: 8).count) bytes\n") }
        router.post("/text") { request in .text("[\(try await request.text())]") }
        router.post("/notes") { request in
            let note = try await request.decode(Note.self)
            return try .json(note, status: .created)
        }
        router.get("/query") { request in
            let query = request.queryParameters
            return .text("q=\(query["q"] ?? "-") tags=\(query.all("tag")) empty=\(query["empty"] ?? "-") malformed=\(query.malformed)")
        }
        router.get("/header") { request in .text(request.headers["x-custom-thing"] ?? "none") }
        router.get("/stream") { _ in
            Response(body: .stream { writer in
                try await writer.write("hello ")
                try await writer.write(Array("world".utf8))
                try await writer.write("")
            })
        }
        return router
    }

    func serve() throws -> (HTTPHarness, HTTPHarness.Served) {
        let http = HTTPHarness(testLoop, responder: RouterResponder(Self.routes()))
        return (http, try http.connect())
    }

    /// Logger.process writes to a file of the test's while `body` runs; returns what was logged.
    func capturingLog(_ body: () throws -> Void) throws -> String {
        let path = "/tmp/handler-api-log.\(Process.id)"
        let fd = try FileSystem.open(path, [.writeOnly, .create, .truncate], permissions: 0o600)
        let saved = Logger.process
        Logger.process = Logger(output: fd)
        defer {
            Logger.process = saved
            fd.close()
            try? FileSystem.remove(path)
        }
        try body()
        return try TextFile.read(path)
    }

    // MARK: Errors

    /// An error that is not an `HTTPError` is the server's: 500 with nothing of the error in the
    /// body, and an error log line with the error, the method and the path. The connection lives on.
    func testAThrowingHandlerGets500AndAnErrorLogLine() throws {
        let (http, served) = try serve()
        var reply: HTTPResponse?
        let log = try capturingLog {
            reply = try served.client.exchange("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n")
        }
        XCTAssertEqual(reply?.status, 500)
        XCTAssertEqual(reply?.text, "internal server error\n")
        XCTAssertTrue(log.contains("level=error"), log)
        XCTAssertTrue(log.contains("msg=\"handler failed\""), log)
        XCTAssertTrue(log.contains("method=GET path=/throw status=500 error=\"the database is on fire\""), log)
        XCTAssertEqual(try served.client.exchange("GET /header HTTP/1.1\r\nHost: x\r\n\r\n").status, 200, "kept alive")
        try http.finish(served)
    }

    /// An `HTTPError` is the client's mistake, answered as it says, with no log line.
    func testAnHTTPErrorIsAnsweredWithItsStatusAndReason() throws {
        let (http, served) = try serve()
        var reply: HTTPResponse?
        let log = try capturingLog { reply = try served.client.exchange("GET /refuse HTTP/1.1\r\nHost: x\r\n\r\n") }
        XCTAssertEqual(reply?.status, 403)
        XCTAssertEqual(reply?.text, "not for you\n")
        XCTAssertEqual(log, "")
        try http.finish(served)
    }

    // MARK: Bodies

    func testABodyWithinTheLimitIsCollected() throws {
        let (http, served) = try serve()
        let reply = try served.client.exchange("POST /bytes HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n12345678")
        XCTAssertEqual(reply.text, "8 bytes\n")
        let chunked = try served.client.exchange("POST /bytes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        XCTAssertEqual(chunked.text, "5 bytes\n")
        try http.finish(served)
    }

    /// Sends `raw` and reads the answer: the 413 of a body over the 8-byte limit, the connection
    /// closed after it (the rest of the body is never read).
    func refusedAsTooLarge(_ raw: String) throws -> HTTPResponse {
        let (http, served) = try serve()
        try served.client.peer.send(raw)
        let reply = try served.client.next()
        XCTAssertEqual(reply.status, 413)
        XCTAssertEqual(reply.text, "the request body is larger than 8 bytes\n")
        XCTAssertTrue(reply.closes)
        try http.finish(served)
        return reply
    }

    func testABodyOverTheLimitGets413() throws {
        _ = try refusedAsTooLarge("POST /bytes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n5\r\nfghij\r\n")
    }

    /// A declared length over the limit is refused before reading: no `100 Continue`, so the
    /// client never sends the body.
    func testADeclaredLengthOverTheLimitIsRefusedBeforeContinue() throws {
        let reply = try refusedAsTooLarge("POST /limited HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertTrue(reply.head.hasPrefix("HTTP/1.1 413"), "the first thing sent, no 100 Continue before it: \(reply.head)")
    }

    func testTextMustBeUTF8() throws {
        let (http, served) = try serve()
        XCTAssertEqual(try served.client.exchange("POST /text HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nh\u{e9}llo").text, "[héllo]")
        try served.client.peer.send(Array("POST /text HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n".utf8) + [0xff, 0xfe])
        let reply = try served.client.next()
        XCTAssertEqual(reply.status, 400)
        XCTAssertEqual(reply.text, "the request body is not UTF-8 text\n")
        try http.finish(served)
    }

    // MARK: JSON

    func post(_ served: HTTPHarness.Served, json: String) throws -> HTTPResponse {
        try served.client.exchange("POST /notes HTTP/1.1\r\nHost: x\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)")
    }

    func testJSONInAndOut() throws {
        let (http, served) = try serve()
        let reply = try post(served, json: #"{"text":"buy milk","tags":["home"]}"#)
        XCTAssertEqual(reply.status, 201)
        XCTAssertEqual(reply.header("Content-Type"), "application/json")
        XCTAssertEqual(try JSONDecoder().decode(Note.self, from: Data(reply.body)), Note(text: "buy milk", tags: ["home"]))
        XCTAssertEqual(reply.text, #"{"tags":["home"],"text":"buy milk"}"#, "keys sorted: the same note, the same bytes, in any process")
        try http.finish(served)
    }

    /// Each way JSON can be wrong gets 400 with a reason that says where, and the connection lives on.
    func testMalformedJSONGets400WithAReason() throws {
        let (http, served) = try serve()
        let cases: [(String, String)] = [
            (#"{"text": "unterminated"#, "malformed JSON: not valid JSON\n"),
            (#"{"tags":[]}"#, "malformed JSON: missing key \"text\"\n"),
            (#"{"text":1,"tags":[]}"#, "malformed JSON: expected a string at text\n"),
            (#"{"text":"a","tags":["x",2]}"#, "malformed JSON: expected a string at tags.[1]\n"),
            (#"{"text":null,"tags":[]}"#, "malformed JSON: expected a string, found null at text\n"),
            ("", "malformed JSON: not valid JSON\n"),
        ]
        for (json, reason) in cases {
            let reply = try post(served, json: json)
            XCTAssertEqual(reply.status, 400, json)
            XCTAssertEqual(reply.text, reason, json)
        }
        try http.finish(served)
    }

    // MARK: Query and headers

    func testQueryParametersAreDecoded() throws {
        let (http, served) = try serve()
        let reply = try served.client.exchange("GET /query?q=swift+server%21&tag=a&tag=b%2Bc&empty&bad=%zz&&x=%ff HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(reply.text, #"q=swift server! tags=["a", "b+c"] empty= malformed=2"#)
        XCTAssertEqual(try served.client.exchange("GET /query HTTP/1.1\r\nHost: x\r\n\r\n").text, "q=- tags=[] empty=- malformed=0")
        try http.finish(served)
    }

    func testHeadersAreLookedUpInAnyCase() throws {
        let (http, served) = try serve()
        XCTAssertEqual(try served.client.exchange("GET /header HTTP/1.1\r\nHost: x\r\nX-CUSTOM-Thing:  yes \r\n\r\n").text, "yes")
        XCTAssertEqual(try served.client.exchange("GET /header HTTP/1.1\r\nHost: x\r\n\r\n").text, "none")
        try http.finish(served)
    }

    // MARK: Streaming

    /// `write(String)` and `write([UInt8])` each make one chunk; an empty write makes none (an
    /// empty chunk would end the body).
    func testAStreamedBodyFromTextAndBytes() throws {
        let (http, served) = try serve()
        try served.client.peer.send("GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        try testLoop.run(until: "the server to close") { served.client.peer.isFinished }
        let raw = served.client.peer.text
        XCTAssertTrue(raw.contains("Transfer-Encoding: chunked\r\n"), raw)
        XCTAssertTrue(raw.hasSuffix("\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"), raw)
        try http.finish(served)
    }
}
