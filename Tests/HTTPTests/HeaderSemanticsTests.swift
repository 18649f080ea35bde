import XCTest

@testable import HTTP

/// The fields the parser acts on, other than body framing: Host, Connection (keep-alive), Expect.
final class HeaderSemanticsTests: XCTestCase {
    // MARK: Host (RFC 9112 §3.2)

    func testHostIsRequiredOnHTTP11Only() {
        assertRejects("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", .missingHost)
        XCTAssertNil(head("GET / HTTP/1.0\r\nAccept: */*\r\n\r\n")?.host)
        XCTAssertEqual(head("GET / HTTP/1.0\r\nHost: a.example\r\n\r\n")?.host, "a.example")
    }

    func testMoreThanOneHostIsRefused() {
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", .multipleHosts)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", .multipleHosts)
        assertRejects("GET / HTTP/1.0\r\nHOST: a\r\nHost: b\r\n\r\n", .multipleHosts)
    }

    func testHostValues() {
        XCTAssertEqual(head("GET / HTTP/1.1\r\nhOsT:  Example.COM:8080 \r\n\r\n")?.host, "Example.COM:8080")
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n")?.host, "[::1]:80")
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")?.host, "127.0.0.1")
        // An empty Host is what a client sends when the target has no authority (RFC 9112 §3.2).
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost:\r\n\r\n")?.host, "")
        for host in ["a b", "a/b", "user@a", "a\"b", "a<b", "é.example", "a\\b", "a?b", "a#b"] {
            assertRejects("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n", .invalidHost)
        }
    }

    // MARK: Keep-alive (RFC 9112 §9.3)

    func testHTTP11IsPersistentUnlessClose() {
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\n\r\n")?.keepAlive, true)
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")?.keepAlive, false)
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: CLOSE\r\n\r\n")?.keepAlive, false)
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, close\r\n\r\n")?.keepAlive, false)
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n")?.keepAlive, false)
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")?.keepAlive, true)
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n")?.keepAlive, true)
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: ,, close ,\r\n\r\n")?.keepAlive, false)
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\nX-Connection: close\r\n\r\n")?.keepAlive, true)
    }

    func testHTTP10IsPersistentOnlyWithKeepAlive() {
        XCTAssertEqual(head("GET / HTTP/1.0\r\n\r\n")?.keepAlive, false)
        XCTAssertEqual(head("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")?.keepAlive, true)
        XCTAssertEqual(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")?.keepAlive, true)
        XCTAssertEqual(head("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n")?.keepAlive, false)
        XCTAssertEqual(head("GET / HTTP/1.0\r\nKeep-Alive: timeout=5\r\n\r\n")?.keepAlive, false)
    }

    // MARK: Expect (RFC 9110 §10.1.1)

    func testExpectContinueIsRecognised() {
        let outcomes = parse("PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\nabc")
        guard case .head(let request) = outcomes.first else { return XCTFail("\(outcomes)") }
        XCTAssertTrue(request.expectContinue)
        XCTAssertEqual(body(of: outcomes), Array("abc".utf8))
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\n\r\n")?.expectContinue, false)
    }

    func testExpectContinueIsIgnoredOnHTTP10() {
        XCTAssertEqual(head("GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n")?.expectContinue, false)
    }

    func testOtherExpectationsGet417AndTheBodyIsSkipped() {
        let outcomes = parse(
            "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 5\r\n\r\nhello"
                + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
        let expected = HTTPParseError.expectationFailed(closesConnection: false)
        XCTAssertEqual(expected.code, 417)
        guard outcomes.count == 4, case .head(let next) = outcomes[2] else { return XCTFail("\(outcomes)") }
        XCTAssertEqual(outcomes[0], .error(expected))
        XCTAssertEqual(outcomes[1], .end)
        XCTAssertEqual(next.target, "/next")
        XCTAssertEqual(outcomes[3], .end)
    }

    func testUnsupportedExpectationSkipsAChunkedBodyToo() {
        let outcomes = parse(
            "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                + "GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(outcomes.count, 4)
        XCTAssertEqual(outcomes.first, .error(.expectationFailed(closesConnection: false)))
        XCTAssertEqual(outcomes.dropFirst().first, .end)
    }

    func testUnsupportedExpectationClosesWhenTheClientAskedToClose() {
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nExpect: nope\r\nConnection: close\r\n\r\n",
                      .expectationFailed(closesConnection: true))
        assertRejects("GET / HTTP/1.0\r\nExpect: nope\r\n\r\n", .expectationFailed(closesConnection: true))
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nExpect:\r\nConnection: close\r\n\r\n", .expectationFailed(closesConnection: true))
    }

    func testFramingErrorsWinOverAnUnsupportedExpectation() {
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nExpect: x\r\nTransfer-Encoding: gzip\r\n\r\n", .chunkedNotFinal)
        assertRejects("POST / HTTP/1.1\r\nHost: a\r\nExpect: x\r\nContent-Length: 10\r\n\r\n", .bodyTooLarge,
                      limits: .init(maxBodyLength: 9))
    }
}
