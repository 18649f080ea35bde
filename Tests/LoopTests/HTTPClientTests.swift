import Posix
import XCTest

@testable import EventLoop
@testable import HTTPClient

/// The client on the test's loop against scripted servers on the same loop (`RawHTTPServer`):
/// pooled reuse counted in accepted connections, every framing, and each way an exchange can go
/// wrong (a close mid-body, a reset, a stall, a body over the caller's limit) ending in an error
/// that says so, never in a short body.
final class HTTPClientTests: XCTestCase {
    var testLoop: TestLoop!

    override func setUpWithError() throws {
        try super.setUpWithError()
        testLoop = try TestLoop.shared()
    }

    /// Answers every request on a connection with `response`.
    static func answering(_ response: String) -> @Sendable @LoopActor (RawHTTPServer.Exchange) async -> Void {
        { exchange in
            while await exchange.readHead() != nil {
                guard await exchange.send(response) else { return }
            }
        }
    }

    func server(_ script: @escaping @Sendable @LoopActor (RawHTTPServer.Exchange) async -> Void) throws -> RawHTTPServer {
        let testLoop = testLoop!
        return try LoopActor.assumeIsolated { try RawHTTPServer(testLoop: testLoop, script: script) }
    }

    /// Runs `body` with a fresh client on the loop; returns what it returned or the error it threw.
    func withClient<Value: Sendable>(_ what: String, configuration: HTTPClient.Configuration = .init(),
                                     _ body: @escaping @Sendable @LoopActor (HTTPClient) async throws -> Value) throws -> Result<Value, HTTPClientError> {
        let outcome = testLoop.spawn { () async -> Result<Value, HTTPClientError> in
            let client = HTTPClient(configuration: configuration)
            defer { client.shutdown() }
            do { return .success(try await body(client)) } catch let error as HTTPClientError { return .failure(error) } catch {
                return .failure(HTTPClientError(.cancelled, "unexpected error \(error)"))
            }
        }
        return try testLoop.result(of: outcome, what, timeout: .seconds(20))
    }

    func accepted(_ server: RawHTTPServer) -> Int { LoopActor.assumeIsolated { server.accepted } }

    func testSequentialRequestsReuseOneConnection() throws {
        let server = try server(Self.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        let url = LoopActor.assumeIsolated { server.url }
        let result = try withClient("ten requests") { client in
            var bodies: [String] = []
            for _ in 0..<10 { bodies.append(try await client.get(url, upTo: 100).text) }
            return (bodies, client.connectionsOpened)
        }.get()
        XCTAssertEqual(result.0, Array(repeating: "ok", count: 10))
        XCTAssertEqual(result.1, 1)
        XCTAssertEqual(accepted(server), 1, "one connection carried all ten")
        LoopActor.assumeIsolated { server.close() }
    }

    func testConcurrentRequestsWaitForTheCapPerOrigin() throws {
        let server = try server(Self.answering("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"))
        let url = LoopActor.assumeIsolated { server.url }
        var configuration = HTTPClient.Configuration()
        configuration.maxConnectionsPerOrigin = 2
        let client = LoopActor.assumeIsolated { HTTPClient(configuration: configuration) }
        let outcomes = (0..<12).map { _ in
            testLoop.spawn { () async -> String in
                do { return try await client.get(url, upTo: 100).text } catch { return "\(error)" }
            }
        }
        let bodies = try outcomes.map { try testLoop.result(of: $0, "twelve concurrent requests", timeout: .seconds(20)) }
        LoopActor.assumeIsolated { client.shutdown() }
        XCTAssertEqual(bodies, Array(repeating: "hello", count: 12))
        XCTAssertLessThanOrEqual(accepted(server), 2, "never more than the cap")
        LoopActor.assumeIsolated { server.close() }
    }

    func testAConnectionTheServerClosedWhileIdleIsReplacedNotFailed() throws {
        let server = try server { exchange in
            guard await exchange.readHead() != nil else { return }
            _ = await exchange.send("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")  // then closes, without saying so
        }
        let url = LoopActor.assumeIsolated { server.url }
        let bodies = try withClient("two requests") { client in
            let first = try await client.get(url, upTo: 10).text
            // The server's FIN may or may not have arrived by now: either the pool sees it, or the
            // request meets the closed connection and is sent again on a new one.
            return [first, try await client.get(url, upTo: 10).text]
        }.get()
        XCTAssertEqual(bodies, ["a", "a"])
        XCTAssertEqual(accepted(server), 2)
        LoopActor.assumeIsolated { server.close() }
    }

    func testChunkedBodyWithExtensionsAndTrailers() throws {
        let server = try server(Self.answering(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Sum: 7\r\n\r\n"))
        let url = LoopActor.assumeIsolated { server.url }
        let result = try withClient("a chunked response, twice") { client in
            [try await client.get(url, upTo: 100).text, try await client.get(url, upTo: 100).text]
        }.get()
        XCTAssertEqual(result, ["abcdefg", "abcdefg"])
        XCTAssertEqual(accepted(server), 1, "a chunked response keeps the connection")
        LoopActor.assumeIsolated { server.close() }
    }

    func testAServerClosingMidBodyIsATruncationError() throws {
        let server = try server { exchange in
            guard await exchange.readHead() != nil else { return }
            _ = await exchange.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
        }
        let url = LoopActor.assumeIsolated { server.url }
        let result = try withClient("a truncated body") { client in try await client.get(url, upTo: 1000).text }
        guard case .failure(let error) = result else { return XCTFail("a short body was returned: \(result)") }
        XCTAssertEqual(error.code, .truncated)
        XCTAssertTrue(error.message.contains("before the end of the response body (after 10 body bytes)"), error.message)
        LoopActor.assumeIsolated { server.close() }
    }

    func testAResetMidBodyIsAConnectionFailure() throws {
        let server = try server { exchange in
            guard await exchange.readHead() != nil else { return }
            _ = await exchange.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n01234")
            exchange.reset()
        }
        let url = LoopActor.assumeIsolated { server.url }
        let result = try withClient("a reset") { client in try await client.get(url, upTo: 1000).text }
        guard case .failure(let error) = result else { return XCTFail("a short body was returned: \(result)") }
        XCTAssertEqual(error.code, .connectionFailed)
        XCTAssertTrue(error.message.contains("ECONNRESET"), error.message)
        LoopActor.assumeIsolated { server.close() }
    }

    func testAStallingServerIsAReadTimeout() throws {
        let server = try server { exchange in
            guard await exchange.readHead() != nil else { return }
            _ = await exchange.send("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome")
            _ = await exchange.readHead()  // and nothing more, until the client gives up
        }
        let url = LoopActor.assumeIsolated { server.url }
        var configuration = HTTPClient.Configuration()
        configuration.readTimeout = .milliseconds(300)
        let result = try withClient("a stalled body", configuration: configuration) { client in try await client.get(url, upTo: 1000).text }
        guard case .failure(let error) = result else { return XCTFail("a short body was returned: \(result)") }
        XCTAssertEqual(error.code, .readTimeout)
        XCTAssertTrue(error.message.contains("no byte from the server (after 4 body bytes)"), error.message)
        LoopActor.assumeIsolated { server.close() }
    }

    func testTheTotalTimeoutStopsATrickle() throws {
        let server = try server { exchange in
            guard await exchange.readHead() != nil else { return }
            _ = await exchange.send("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in 0..<100 {
                guard await exchange.send("x") else { return }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        let url = LoopActor.assumeIsolated { server.url }
        var configuration = HTTPClient.Configuration()
        configuration.totalTimeout = .milliseconds(400)
        let result = try withClient("a trickle", configuration: configuration) { client in try await client.get(url, upTo: 10_000).text }
        guard case .failure(let error) = result else { return XCTFail("expected the total timeout, got \(result)") }
        XCTAssertEqual(error.code, .totalTimeout)
        LoopActor.assumeIsolated { server.close() }
    }

    /// A request waiting for a pooled slot (the cap is 1, held by an exchange whose caller is busy
    /// with its response) gives up when its total timeout runs out, not when the slot frees.
    func testWaitingForAFreeConnectionEndsAtTheTotalTimeout() throws {
        let server = try server(Self.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        let url = LoopActor.assumeIsolated { server.url }
        var configuration = HTTPClient.Configuration()
        configuration.maxConnectionsPerOrigin = 1
        configuration.totalTimeout = .milliseconds(300)
        let client = LoopActor.assumeIsolated { HTTPClient(configuration: configuration) }
        let holderDone = Flag()
        let holder = testLoop.spawn { () async -> String in
            do {
                return try await client.execute(HTTPClient.Request(.get, url)) { response in
                    try? await Task.sleep(for: .seconds(3))  // holds the only connection, no wait on the server
                    holderDone.isSet = true
                    return String(decoding: try await response.collect(upTo: 100), as: UTF8.self)
                }
            } catch {
                holderDone.isSet = true
                return "\(error)"
            }
        }
        let waiter = testLoop.spawn { () async -> String in
            do { return try await client.get(url, upTo: 100).text } catch { return "\((error as? HTTPClientError).map { "\($0.code)" } ?? "\(error)") while the holder \(holderDone.isSet ? "was done" : "held it")" }
        }
        XCTAssertEqual(try testLoop.result(of: waiter, "the waiting request", timeout: .seconds(20)), "totalTimeout while the holder held it")
        XCTAssertEqual(try testLoop.result(of: holder, "the holding request", timeout: .seconds(20)), "ok")
        LoopActor.assumeIsolated { client.shutdown() }
        LoopActor.assumeIsolated { server.close() }
    }

    /// A client let go without `shutdown()` closes its idle connections: one made per request and
    /// dropped leaks no socket (the server sees each connection end).
    func testAClientLetGoClosesItsIdleConnections() throws {
        let server = try server(Self.answering("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
        let url = LoopActor.assumeIsolated { server.url }
        let done = testLoop.spawn { () async -> [String] in
            var bodies: [String] = []
            for _ in 0..<5 {
                let client = HTTPClient()  // dropped at the end of each pass, never shut down
                bodies.append((try? await client.get(url, upTo: 100).text) ?? "failed")
            }
            return bodies
        }
        XCTAssertEqual(try testLoop.result(of: done, "five clients, each dropped", timeout: .seconds(20)), Array(repeating: "ok", count: 5))
        try testLoop.run(until: "the server to see all five connections closed") { LoopActor.assumeIsolated { server.finished == 5 } }
        LoopActor.assumeIsolated { server.close() }
    }

    func testABodyOverTheCollectLimitIsAnErrorWhateverItsFraming() throws {
        let declared = try server(Self.answering("HTTP/1.1 200 OK\r\nContent-Length: 2000000000\r\n\r\n"))
        let chunked = try server(Self.answering("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + String(repeating: "y", count: 64) + "\r\n0\r\n\r\n"))
        let urls = LoopActor.assumeIsolated { [declared.url, chunked.url] }
        for url in urls {
            let result = try withClient("a body over the limit") { client in try await client.get(url, upTo: 50).body.count }
            guard case .failure(let error) = result else { return XCTFail("expected responseTooLarge, got \(result)") }
            XCTAssertEqual(error.code, .responseTooLarge, error.message)
        }
        LoopActor.assumeIsolated { declared.close(); chunked.close() }
    }

    func testAStreamedRequestBodyGoesOutChunked() throws {
        let server = try server { exchange in
            guard let head = await exchange.readHead(), head.contains("Transfer-Encoding: chunked\r\n"),
                  let body = await exchange.read(until: Array("0\r\n\r\n".utf8))
            else { return }
            let text = String(decoding: body, as: UTF8.self)
            _ = await exchange.send("HTTP/1.1 200 OK\r\nContent-Length: \(text.utf8.count)\r\n\r\n\(text)")
        }
        let url = LoopActor.assumeIsolated { server.url }
        let echoed = try withClient("a streamed upload") { client in
            let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
            continuation.yield(Array("hello ".utf8))
            continuation.yield(Array("world".utf8))
            continuation.finish()
            return try await client.execute(.init(.post, url, body: .stream(length: nil, stream))) { try await $0.text(upTo: 1000) }
        }.get()
        XCTAssertEqual(echoed, "6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n")
        LoopActor.assumeIsolated { server.close() }
    }

    func testAUnixSocketURL() throws {
        let path = "/tmp/client-test-\(getpid()).sock"
        let testLoop = testLoop!
        let server = try LoopActor.assumeIsolated {
            try RawHTTPServer(on: .unix(path: path), testLoop: testLoop, script: Self.answering("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nunix"))
        }
        defer { _ = unlink(path) }
        let url = LoopActor.assumeIsolated { server.url }
        XCTAssertTrue(url.hasPrefix("http+unix://%2Ftmp%2Fclient-test-"), url)
        XCTAssertEqual(try withClient("a request over a unix socket") { client in try await client.get(url, upTo: 10).text }.get(), "unix")
        LoopActor.assumeIsolated { server.close() }
    }

    func testHTTPSAndBadURLsAreRefusedClearly() throws {
        for (url, code) in [("https://example.com/", HTTPClientError.Code.unsupportedScheme), ("ftp://x/", .invalidURL),
                            ("http://a b/", .invalidURL), ("http://host:99999/", .invalidURL), ("http://[::1/", .invalidURL),
                            ("http://127.0.0.1/a b", .invalidURL), ("http://user@host/", .invalidURL)] {
            let result = try withClient("refusing \(url)") { client in try await client.get(url, upTo: 10).status }
            guard case .failure(let error) = result else { XCTFail("\(url) was accepted"); continue }
            XCTAssertEqual(error.code, code, "\(url): \(error)")
        }
    }

    func testURLsAreTakenApart() throws {
        let v6 = try ClientURL(parsing: "http://[::1]:8080/a?b=1#frag")
        XCTAssertEqual(v6.origin, .tcp(host: "::1", port: 8080))
        XCTAssertEqual(v6.target, "/a?b=1")
        XCTAssertEqual(v6.hostField, "[::1]:8080")
        let bare = try ClientURL(parsing: "http://example.com?q")
        XCTAssertEqual(bare.origin, .tcp(host: "example.com", port: 80))
        XCTAssertEqual(bare.target, "/?q")
        XCTAssertEqual(try ClientURL(parsing: "http+unix://%2Frun%2Fapp.sock/health").origin, .unix(path: "/run/app.sock"))
    }

    func testAConnectionRefusedNamesTheAddress() throws {
        let result = try withClient("a refused connect") { client in try await client.get("http://127.0.0.1:1/", upTo: 10).status }
        guard case .failure(let error) = result else { return XCTFail("expected a connect error") }
        XCTAssertEqual(error.code, .connect)
        XCTAssertTrue(error.message.contains("connect(127.0.0.1:1) failed: ECONNREFUSED"), error.message)
    }
}
