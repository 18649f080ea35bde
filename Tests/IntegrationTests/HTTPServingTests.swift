import Foundation
import Glibc
import XCTest

/// The HTTP app (`--app http`) over real sockets: raw requests written by hand, so framing is what
/// is under test, not a client library's view of it.
final class HTTPServingTests: XCTestCase {
    /// Held for the whole test: a `ServerProcess` kills its server when released.
    var server: ServerProcess?

    override func tearDown() {
        server?.stop()
        server = nil
    }

    func startHTTP(_ extra: [String] = []) throws -> (ServerProcess, UInt16) {
        let server = try ServerProcess(["start", "--app", "http", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0"] + extra)
        self.server = server
        let port = server.port()
        server.waitForReady(1)
        return (server, port)
    }

    func exchange(_ raw: String, port: UInt16) throws -> String { try HTTPTestClient.exchange(port: port, raw) }

    func testHelloWorldAndHelloNameWithPercentDecoding() throws {
        let (_, port) = try startHTTP()
        let root = try exchange("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port)
        XCTAssertTrue(root.hasPrefix("HTTP/1.1 200 OK\r\n"), root)
        XCTAssertTrue(root.contains("\r\nContent-Length: 13\r\n"), root)
        XCTAssertTrue(root.contains("\r\nDate: "), root)
        XCTAssertTrue(root.hasSuffix("\r\n\r\nHello, World!"), root)
        let name = try exchange("GET /hello/J%C3%BCrgen HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port)
        XCTAssertTrue(name.hasSuffix("\r\n\r\nHello, Jürgen"), name)
        let bad = try exchange("GET /hello/%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port)
        XCTAssertTrue(bad.hasPrefix("HTTP/1.1 400 "), bad)
    }

    func testKeepAliveAndPipeliningAnswerInOrder() throws {
        let (_, port) = try startHTTP()
        let replies = try exchange("GET /hello/one HTTP/1.1\r\nHost: x\r\n\r\n"
                                   + "GET /hello/two HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nbody!"
                                   + "HEAD /hello/three HTTP/1.1\r\nHost: x\r\n\r\n"
                                   + "GET /hello/four HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port)
        let statusLines = replies.components(separatedBy: "HTTP/1.1 200 OK").count - 1
        XCTAssertEqual(statusLines, 4, replies)
        let one = try XCTUnwrap(replies.range(of: "Hello, one"))
        let two = try XCTUnwrap(replies.range(of: "Hello, two"))
        let four = try XCTUnwrap(replies.range(of: "Hello, four"))
        XCTAssertTrue(one.lowerBound < two.lowerBound && two.lowerBound < four.lowerBound, "answered in order")
        XCTAssertFalse(replies.contains("Hello, three"), "HEAD has no body")
        XCTAssertTrue(replies.hasSuffix("Hello, four"), "closed after the request that asked for it")
    }

    func testFramingErrorIsAnswered400ThenClosed() throws {
        let (_, port) = try startHTTP()
        let reply = try exchange("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 + "GET / HTTP/1.1\r\nHost: x\r\n\r\n", port: port)
        XCTAssertTrue(reply.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), reply)
        XCTAssertTrue(reply.contains("\r\nConnection: close\r\n"), reply)
        XCTAssertEqual(reply.components(separatedBy: "HTTP/1.1 ").count - 1, 1, "the smuggled request is never answered")
    }

    func testHealthzAndUnknownRoutes() throws {
        let (_, port) = try startHTTP()
        let health = try exchange("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port)
        XCTAssertTrue(health.hasPrefix("HTTP/1.1 200 OK\r\n") && health.hasSuffix("ok\n"), health)
        let missing = try exchange("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port)
        XCTAssertTrue(missing.hasPrefix("HTTP/1.1 404 "), missing)
        let method = try exchange("DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: port)
        XCTAssertTrue(method.hasPrefix("HTTP/1.1 405 ") && method.contains("\r\nAllow: GET, HEAD\r\n"), method)
    }

    func testAStalledHeadGets408ThenCloseAndAStalledBodyIsDropped() throws {
        let (_, port) = try startHTTP(["--header-timeout", "300ms", "--body-timeout", "300ms"])
        let slow = try EchoClient(port: port)
        try slow.send("GET / HTTP/1.1\r\nHo")
        let reply = String(decoding: try slow.receiveAll(), as: UTF8.self)
        XCTAssertTrue(reply.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), reply)
        XCTAssertTrue(reply.contains("\r\nConnection: close\r\n"), reply)
        // A connection that says nothing at all is closed without an answer.
        XCTAssertTrue(try EchoClient(port: port).receiveAll().isEmpty)
        // A body that stops halfway: the request is answered (405 here), then, the rest of the body
        // never coming, the connection ends (receiveAll returns at EOF) instead of waiting forever.
        let stalled = try EchoClient(port: port, timeout: 20)
        try stalled.send("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a bit")
        let answer = String(decoding: try stalled.receiveAll(), as: UTF8.self)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 405"), answer)
    }

    func testHTTP10KeepAliveOnlyWhenAsked() throws {
        let (_, port) = try startHTTP()
        let plain = try exchange("GET / HTTP/1.0\r\n\r\n", port: port)
        XCTAssertTrue(plain.contains("\r\nConnection: close\r\n"), plain)
        let client = try EchoClient(port: port)
        try client.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let first = try client.receive(1)
        XCTAssertEqual(first, "H")
        try client.send("GET /hello/again HTTP/1.0\r\n\r\n")
        let rest = try client.receive(1 << 20)
        XCTAssertTrue(rest.contains("Connection: keep-alive"), rest)
        XCTAssertTrue(rest.hasSuffix("Hello, again"), rest)
    }
}

/// The README's embedding example, running under the real master.
final class EmbeddingTests: XCTestCase {
    func testTheReadmeExampleServesItsRoutesWithThePool() throws {
        let server = try ServerProcess(["start", "--app", "squares", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0"],
                                       binary: "supervisor-fixture")
        let port = server.port()
        server.waitForReady(1)
        let client = try EchoClient(port: port)
        try client.send("GET /square/12 HTTP/1.1\r\nHost: x\r\n\r\n")
        let reply = try client.readResponse()
        XCTAssertTrue(reply.head.hasPrefix("HTTP/1.1 200"), reply.head)
        XCTAssertEqual(reply.text, "144\n")
        try client.send("GET /square/99999999999 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(try client.readResponse().head.hasPrefix("HTTP/1.1 400"))
        let worker = try XCTUnwrap(server.workerPIDs.first)
        XCTAssertEqual(ServerProcess.threadCount(worker), 3, "the loop thread and the pool's two")
    }

    /// The example's own key is read from the config file, and again on HUP, like the master's; a
    /// bad value there is refused with file:line, and the running generation stays.
    func testTheExamplesOwnKeyIsReadFromTheFileAndAgainOnHUP() throws {
        let config = ServerProcess.temporaryDirectory() + "/squares.conf"
        let settings = "app = squares\nworkers = 1\nbind = 127.0.0.1:0\nhealth-interval = 0\n"
        try (settings + "square-threads = 1\n").write(toFile: config, atomically: true, encoding: .utf8)
        let server = try ServerProcess(["start", "--config", config], binary: "supervisor-fixture")
        defer { server.stop() }
        let port = server.port()
        server.waitForLog("msg=\"generation ready\"", "generation=1")
        /// The worker's threads once it computed two squares.
        func threadsAfterTwoSquares() throws -> Int {
            let client = try EchoClient(port: port)
            try client.send("GET /square/12 HTTP/1.1\r\nHost: x\r\n\r\n")
            XCTAssertEqual(try client.readResponse().text, "144\n")
            try client.send("GET /square/99999999999 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            XCTAssertTrue(try client.readResponse().head.hasPrefix("HTTP/1.1 400"))
            return ServerProcess.threadCount(try XCTUnwrap(server.workerPIDs.first))
        }
        XCTAssertEqual(try threadsAfterTwoSquares(), 2, "square-threads = 1: the loop thread and the pool's one")

        try (settings + "square-threads = 0\n").write(toFile: config, atomically: true, encoding: .utf8)
        server.signal(SIGHUP)
        let refusal = server.waitForLog("msg=\"reload rejected: the configuration is invalid; the running one stays in force\"")
        XCTAssertTrue(refusal.first?.contains("\(config):5: invalid value for square-threads: must be from 1 to 64, got 0") ?? false,
                      refusal.first ?? "")

        let old = server.workerPIDs
        try (settings + "square-threads = 2\n").write(toFile: config, atomically: true, encoding: .utf8)
        server.signal(SIGHUP)
        server.waitForLog("msg=\"generation ready\"", "generation=2")
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) { server.workerPIDs.count == 1 && server.workerPIDs != old }, "the new worker alone")
        XCTAssertEqual(try threadsAfterTwoSquares(), 3, "square-threads = 2 after HUP: the loop thread and the pool's two")
    }

    /// The example's own flag reaches its workers: a pool of one thread is used for both squares.
    func testTheExamplesOwnFlagSizesItsPool() throws {
        let server = try ServerProcess(["start", "--app", "squares", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0",
                                        "--square-threads", "1"], binary: "supervisor-fixture")
        let port = server.port()
        server.waitForReady(1)
        let client = try EchoClient(port: port)
        try client.send("GET /square/12 HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "144\n")
        try client.send("GET /square/99999999999 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(try client.readResponse().head.hasPrefix("HTTP/1.1 400"))
        let worker = try XCTUnwrap(server.workerPIDs.first)
        XCTAssertEqual(ServerProcess.threadCount(worker), 2, "the loop thread and the pool's one")
    }
}

/// `--access-log` and `--forwarded-allow-ips`, and USR1 reopening the log (logrotate).
final class AccessLogTests: XCTestCase {
    func request(_ port: UInt16, _ raw: String) throws { _ = try HTTPTestClient.exchange(port: port, raw) }

    func testLinesNameTheRealClientAndSurviveRotation() throws {
        let directory = ServerProcess.temporaryDirectory()
        let path = directory + "/access.log"
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0",
                                        "--access-log", path, "--forwarded-allow-ips", "127.0.0.1, ::1"])
        let port = server.port()
        server.waitForReady(1)
        try request(port, "GET /hello/x HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6, 203.0.113.7\r\n"
                    + "Referer: http://r/\r\nUser-Agent: ua \"quoted\"\r\nConnection: close\r\n\r\n")
        var log = ""
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) {
            log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return log.contains("\n")
        })
        XCTAssertTrue(log.hasPrefix("203.0.113.7 - - ["), "the client behind the trusted proxy, not the spoofed entry: \(log)")
        XCTAssertTrue(log.contains("] \"GET /hello/x HTTP/1.1\" 200 8 \"http://r/\" \"ua \\\"quoted\\\"\" "), log)
        XCTAssertTrue(log.hasSuffix(" -\n"), "no X-Request-Start: no queue time: \(log)")

        // A trusted proxy's X-Request-Start (nginx's t=${msec}) gives the queue time, the last field.
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let stamp = "\(now.tv_sec - 2).\(String(format: "%03d", now.tv_nsec / 1_000_000))"
        try request(port, "GET /hello/q HTTP/1.1\r\nHost: x\r\nX-Request-Start: t=\(stamp)\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) {
            log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return log.contains("/hello/q")
        })
        let queued = log.split(separator: "\n").first { $0.contains("/hello/q") }.flatMap { Double($0.split(separator: " ").last ?? "") }
        XCTAssertGreaterThanOrEqual(queued ?? 0, 2, log)
        XCTAssertLessThan(queued ?? 99, 2 + ServerProcess.deadline, log)

        // logrotate: rename the file, USR1 to the master, and the next line goes to a new file.
        XCTAssertEqual(rename(path, path + ".1"), 0)
        server.signal(SIGUSR1)
        server.waitForLog("msg=\"reopening logs\"")
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) {
            (try? self.request(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) != nil
                && FileManager.default.fileExists(atPath: path)
        }, "the log was reopened at its path")
        let fresh = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        XCTAssertTrue(fresh.hasPrefix("127.0.0.1 - - ["), fresh)
    }

    /// A reopen that fails (the folder was moved away) is logged, and lines keep going to the old file.
    func testAnAccessLogThatCannotBeReopenedIsLoggedAndKept() throws {
        let directory = ServerProcess.temporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory + "/logs", withIntermediateDirectories: false)
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0",
                                        "--access-log", directory + "/logs/access.log"])
        let port = server.port()
        server.waitForReady(1)
        try request(port, "GET /hello/before HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(rename(directory + "/logs", directory + "/moved"), 0)
        server.signal(SIGUSR1)
        server.waitForLog("msg=\"cannot reopen the access log; still writing to the old one\"", "ENOENT")
        try request(port, "GET /hello/after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) {
            ((try? String(contentsOfFile: directory + "/moved/access.log", encoding: .utf8)) ?? "").contains("/hello/after")
        }, "the old file still gets the lines")
    }

    func testHeadersFromUntrustedPeersAreIgnored() throws {
        let path = ServerProcess.temporaryDirectory() + "/access.log"
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0",
                                        "--access-log", path, "--forwarded-allow-ips", "10.0.0.0/8"])
        let port = server.port()
        server.waitForReady(1)
        try request(port, "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\nConnection: close\r\n\r\n")
        var log = ""
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) {
            log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return log.contains("\n")
        })
        XCTAssertTrue(log.hasPrefix("127.0.0.1 - - ["), log)
    }

    func testProxyProtocolNamesTheClientAndIsRequired() throws {
        let path = ServerProcess.temporaryDirectory() + "/access.log"
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0",
                                        "--access-log", path, "--proxy-protocol"])
        let port = server.port()
        server.waitForReady(1)
        try request(port, "PROXY TCP4 203.0.113.7 127.0.0.1 40000 8080\r\nGET /hello/v1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let v2: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21, 0x11, 0x00, 0x0C,
                           198, 51, 100, 9, 127, 0, 0, 1, 0x9C, 0x40, 0x1F, 0x90]
        let client = try EchoClient(port: port)
        var bytes = v2 + Array("GET /hello/v2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
        try client.send(bytes: &bytes)
        XCTAssertTrue(String(decoding: try client.receiveAll(), as: UTF8.self).hasSuffix("Hello, v2"))
        // No header: closed without an answer.
        let bare = try EchoClient(port: port)
        try bare.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertTrue(try bare.receiveAll().isEmpty)
        var log = ""
        XCTAssertTrue(waitUntil(timeout: ServerProcess.deadline) {
            log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            return log.split(separator: "\n").count >= 2
        })
        XCTAssertTrue(log.contains("203.0.113.7 - - [") && log.contains("\"GET /hello/v1 HTTP/1.1\" 200"), log)
        XCTAssertTrue(log.contains("198.51.100.9 - - [") && log.contains("\"GET /hello/v2 HTTP/1.1\" 200"), log)
        XCTAssertEqual(log.split(separator: "\n").count, 2, "the bare request was never served")
    }

    /// A PROXY header names any client its sender likes: only a trusted peer may send one.
    func testProxyProtocolFromAnUntrustedPeerIsRefused() throws {
        let path = ServerProcess.temporaryDirectory() + "/access.log"
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0",
                                        "--access-log", path, "--proxy-protocol", "--forwarded-allow-ips", "10.0.0.0/8"])
        let port = server.port()
        server.waitForReady(1)
        let client = try EchoClient(port: port)
        try client.send("PROXY TCP4 203.0.113.7 127.0.0.1 40000 8080\r\nGET /hello/spoof HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(try client.receiveAll().isEmpty, "closed without an answer")
        // The worker is fine and the log holds no line for it.
        XCTAssertEqual(server.workerPIDs.count, 1)
        XCTAssertFalse(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains("203.0.113.7"))
    }

    func testABadTrustListIsAUsageError() throws {
        let server = try ServerProcess(["start", "--forwarded-allow-ips", "127.0.0.1,10.0.0.0/99"])
        XCTAssertEqual(try XCTUnwrap(server.waitForExit()).code, 2)
        XCTAssertTrue(server.log.contains("--forwarded-allow-ips") && server.log.contains("10.0.0.0/99"), server.log)
    }
}

/// Responses of unknown length, and the limits' flags.
final class StreamingAndLimitTests: XCTestCase {
    func testStreamedBodiesAreChunkedFor11AndCloseDelimitedFor10() throws {
        let server = try ServerProcess(["start", "--app", "counting", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0"],
                                       binary: "supervisor-fixture")
        let port = server.port()
        server.waitForReady(1)
        let client = try EchoClient(port: port)
        try client.send("GET /count/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let reply = String(decoding: try client.receiveAll(), as: UTF8.self)
        XCTAssertTrue(reply.contains("\r\nTransfer-Encoding: chunked\r\n"), reply)
        XCTAssertTrue(reply.hasSuffix("\r\n\r\n7\r\nline 1\n\r\n7\r\nline 2\n\r\n7\r\nline 3\n\r\n0\r\n\r\n"), reply)
        let old = try EchoClient(port: port)
        try old.send("GET /count/2 HTTP/1.0\r\n\r\n")
        let plain = String(decoding: try old.receiveAll(), as: UTF8.self)
        XCTAssertFalse(plain.contains("chunked"), plain)
        XCTAssertTrue(plain.contains("\r\nConnection: close\r\n") && plain.hasSuffix("\r\n\r\nline 1\nline 2\n"), plain)
    }

    func testLimitFlagsApply() throws {
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0",
                                        "--max-request-line", "64", "--max-headers", "3"])
        let port = server.port()
        server.waitForReady(1)
        func status(_ raw: String) throws -> String {
            let client = try EchoClient(port: port)
            try client.send(raw)
            return String(String(decoding: try client.receiveAll(), as: UTF8.self).prefix(12))
        }
        XCTAssertEqual(try status("GET /hello/\(String(repeating: "a", count: 80)) HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 414")
        XCTAssertEqual(try status("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), "HTTP/1.1 431")
        XCTAssertEqual(try status("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nConnection: close\r\n\r\n"), "HTTP/1.1 200")
    }
}
