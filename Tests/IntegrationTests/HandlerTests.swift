import Foundation
import Glibc
import XCTest

/// The handler API in a real worker: the README's JSON example, a handler that traps (a worker
/// crash the master replaces), one that throws (500 and a log line), and a background task that
/// a stop cancels and waits for.
final class HandlerTests: XCTestCase {
    func start(_ app: String, _ extra: [String] = []) throws -> (ServerProcess, UInt16) {
        let server = try ServerProcess(["start", "--app", app, "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0"] + extra,
                                       binary: "supervisor-fixture")
        let port = server.port()
        server.waitForReady(1)
        return (server, port)
    }

    func post(_ port: UInt16, _ target: String, _ body: String, headers: [String] = []) throws -> HTTPResponse {
        let connection = try EchoClient(port: port)
        try connection.send("POST \(target) HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n" + headers.map { $0 + "\r\n" }.joined()
                            + "Connection: close\r\n\r\n" + body)
        return try HTTPResponse(parsing: connection.receiveAll())
    }

    /// The README's "Writing handlers" example, as compiled into the fixture.
    func testTheReadmeJSONExample() throws {
        let (server, port) = try start("notes")
        defer { server.stop() }
        let created = try post(port, "/notes", #"{"text":"buy milk","tags":["home"]}"#, headers: ["X-Request-Id: req-1"])
        XCTAssertEqual(created.status, 201, created.text)
        XCTAssertEqual(created.header("Content-Type"), "application/json")
        XCTAssertEqual(created.header("X-Request-Id"), "req-1", "the middleware passes the client's id on")
        XCTAssertEqual(try post(port, "/notes", #"{"text":"call mum"}"#).status, 201)

        let malformed = try post(port, "/notes", #"{"text": "#)
        XCTAssertEqual(malformed.status, 400)
        XCTAssertEqual(malformed.text, "malformed JSON: not valid JSON\n")
        XCTAssertNotNil(malformed.header("X-Request-Id"), "a made-up id on every response, errors too")
        let wrongType = try post(port, "/notes", #"{"text": 7}"#)
        XCTAssertEqual(wrongType.text, "malformed JSON: expected a string at text\n")
        let empty = try post(port, "/notes", #"{"text": ""}"#)
        XCTAssertEqual(empty.status, 422)
        XCTAssertEqual(empty.text, "a note needs some text\n")
        let large = try post(port, "/notes", #"{"text": ""# + String(repeating: "a", count: 16 * 1024) + #""}"#)
        XCTAssertEqual(large.status, 413)

        let home = try HTTPTestClient.get(port: port, "/notes?tag=home")
        XCTAssertEqual(home.status, 200)
        XCTAssertEqual(home.text, #"[{"tags":["home"],"text":"buy milk"}]"#)
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/notes").text, #"[{"tags":["home"],"text":"buy milk"},{"text":"call mum"}]"#)

        // The outgoing call: the server imports its own notes through the HTTP client, so the
        // handler awaits a request its own worker (or another) serves meanwhile.
        let imported = try post(port, "/notes/import?from=http://127.0.0.1:\(port)", "")
        XCTAssertEqual(imported.status, 201, imported.text)
        XCTAssertEqual(imported.text, #"[{"tags":["home"],"text":"buy milk"},{"text":"call mum"}]"#)
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/notes?tag=home").text,
                       #"[{"tags":["home"],"text":"buy milk"},{"tags":["home"],"text":"buy milk"}]"#)
        let badUpstream = try post(port, "/notes/import?from=http://127.0.0.1:\(port)/nowhere", "")
        XCTAssertEqual(badUpstream.status, 502, "a 404 upstream is a bad gateway, not our 500")
        XCTAssertEqual(badUpstream.text, "http://127.0.0.1:\(port)/nowhere/notes answered 404, not a list of notes\n")
        XCTAssertEqual(try post(port, "/notes/import", "").status, 400)
    }

    /// A handler that traps takes its worker down (the connection ends with no answer); the master
    /// logs the crash and starts a new worker, which serves.
    func testAHandlerThatTrapsIsAWorkerCrashTheMasterReplaces() throws {
        let (server, port) = try start("faults")
        defer { server.stop() }
        let first = try HTTPTestClient.get(port: port, "/pid")
        let victim = try XCTUnwrap(pid_t(first.text.trimmingCharacters(in: .whitespacesAndNewlines)))
        XCTAssertEqual(try HTTPTestClient.get(port: port, "/trap?by=4").text, "25\n", "no trap without a zero")

        let cut = try HTTPTestClient.exchange(port: port, "GET /trap HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(cut, "", "the worker died before answering")
        server.waitForLog("msg=\"worker exited\"", "pid=\(victim) ", "status=signal:", "reason=crashed")
        server.waitForReady(2)
        var replacement: pid_t?
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) {
            replacement = (try? HTTPTestClient.get(port: port, "/pid")).flatMap { pid_t($0.text.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return replacement != nil
        })
        XCTAssertNotEqual(replacement, victim)
    }

    /// A throwing handler: 500 with a body that tells nothing, and the error in the worker's log.
    func testAHandlerThatThrowsGets500AndAnErrorLogLine() throws {
        let (server, port) = try start("faults")
        defer { server.stop() }
        let reply = try HTTPTestClient.get(port: port, "/throw")
        XCTAssertEqual(reply.status, 500)
        XCTAssertEqual(reply.text, "internal server error\n")
        server.waitForLog("level=error", "msg=\"handler failed\"", "method=GET path=/throw status=500", "error=\"fixture app refuses to boot\"",
                          "worker=", "slot=0")
    }

    /// The heartbeat app writing to a file of its own; `body` gets the server and the file's text.
    func withHeartbeat(_ extra: [String] = [], _ body: (ServerProcess, () -> String) throws -> Void) throws {
        let directory = ServerProcess.temporaryDirectory()
        let file = directory + "/heartbeat"
        defer {
            unlink(file)
            rmdir(directory)
        }
        let (server, _) = try start("heartbeat", ["--heartbeat-file", file] + extra)
        defer { server.stop() }
        func beats() -> String { (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" }
        func count() -> Int { Int(beats().dropFirst("beats=".count).prefix { $0.isNumber }) ?? 0 }
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { count() >= 3 }, "beats: \(beats())")
        let before = count()
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { count() > before }, "it goes on beating: \(beats())")
        try body(server, beats)
    }

    /// On a stop, the background task is cancelled, and the worker exits only once it has
    /// returned from its cleanup (300 ms on a loop timer, after the cancellation).
    func testABackgroundTaskIsCancelledOnStopAndAwaited() throws {
        try withHeartbeat { server, beats in
            server.signal(SIGTERM)
            let exit = server.waitForExit()
            XCTAssertEqual(exit?.code, 0, server.log)
            XCTAssertTrue(beats().hasSuffix(" cancelled stopped\n"), "the cleanup ran to its end before the worker exited: \(beats())")
            XCTAssertTrue(server.lines(containing: "drain deadline reached").isEmpty, server.log)
        }
    }

    /// A task whose cleanup never ends holds the worker only until the drain deadline.
    func testTheDrainDeadlineCutsABackgroundTaskThatDoesNotReturn() throws {
        try withHeartbeat(["--heartbeat-stubborn", "--graceful-timeout", "1s"]) { server, beats in
            server.signal(SIGTERM)
            server.waitForLog("drain deadline reached")
            XCTAssertNotNil(server.waitForExit(), "the master exits once its worker is gone")
            XCTAssertTrue(beats().hasSuffix(" cancelled\n"), "cancelled, and cut in its cleanup: \(beats())")
        }
    }
}
