import XCTest

@testable import HTTP

/// The request line (RFC 9112 §3): method token, target, version, exactly one SP between them.
final class RequestLineTests: XCTestCase {
    func testSimpleGet() throws {
        let request = try XCTUnwrap(head("GET /hello/world?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"))
        XCTAssertEqual(request.method, .get)
        XCTAssertEqual(request.target, "/hello/world?x=1")
        XCTAssertEqual(request.version, .http11)
        XCTAssertEqual(request.host, "example.com")
        XCTAssertEqual(request.framing, .noBody)
        XCTAssertTrue(request.keepAlive)
        XCTAssertFalse(request.expectContinue)
        XCTAssertEqual(request.headers.count, 2)
    }

    func testKnownMethodsAreCasesAndOthersKeepTheirToken() throws {
        let known: [(String, HTTPMethod)] = [
            ("GET", .get), ("HEAD", .head), ("POST", .post), ("PUT", .put), ("DELETE", .delete),
            ("OPTIONS", .options), ("TRACE", .trace), ("PATCH", .patch),
        ]
        for (token, method) in known {
            XCTAssertEqual(head("\(token) / HTTP/1.1\r\nHost: a\r\n\r\n")?.method, method, token)
            XCTAssertEqual(method.rawValue, token)
        }
        XCTAssertEqual(head("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")?.method, .connect)
        // Any token is a method; methods are case-sensitive.
        XCTAssertEqual(head("PURGE / HTTP/1.1\r\nHost: a\r\n\r\n")?.method, .other("PURGE"))
        XCTAssertEqual(head("get / HTTP/1.1\r\nHost: a\r\n\r\n")?.method, .other("get"))
        XCTAssertEqual(head("M-SEARCH! / HTTP/1.1\r\nHost: a\r\n\r\n")?.method.rawValue, "M-SEARCH!")
        XCTAssertEqual(head("GETS / HTTP/1.1\r\nHost: a\r\n\r\n")?.method, .other("GETS"))
    }

    func testMethodMustBeAToken() {
        for method in ["GE(T", "GET@", "G\"T", "GE{}T", "GÉT", "G\tET", "GET\u{0}"] {
            assertRejects("\(method) / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod)
        }
        assertRejects(" / HTTP/1.1\r\nHost: a\r\n\r\n", .emptyMethod)
        assertRejects(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", .emptyMethod)
    }

    func testSomethingThatIsNotHTTPIsRefusedAtItsFirstByte() {
        // A TLS ClientHello on the plain port: the first byte (0x16) cannot start a method, so the
        // client gets its 400 now rather than after 8 KiB or the header timeout.
        var parser = RequestParser()
        let hello: [UInt8] = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]
        let output = hello.withUnsafeBytes { parser.parse($0) }
        guard case .error(let error) = output.event else { return XCTFail("\(output.event)") }
        XCTAssertEqual(error, .invalidMethod)
        XCTAssertTrue(error.closesConnection)
        assertRejects(hello, .invalidMethod)
    }

    func testTargetMustNotContainControlsSpacesOrNonASCII() {
        for target in ["/a\u{1}b", "/a\u{7F}", "/a\tb", "/é", "/a\u{0}"] {
            assertRejects("GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget)
        }
        // A space inside the target leaves "b HTTP/1.1" as the version.
        assertRejects("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", .invalidVersion)
        assertRejects("GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTarget)
    }

    func testExactlyOneSpaceBetweenParts() {
        assertRejects("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .malformedRequestLine)
        assertRejects("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", .invalidVersion)
        assertRejects("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", .invalidVersion)
        assertRejects("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod)
        assertRejects("GET /\r\nHost: a\r\n\r\n", .malformedRequestLine)
        assertRejects("GET\r\n\r\n", .malformedRequestLine)
    }

    func testVersions() {
        XCTAssertEqual(head("GET / HTTP/1.0\r\n\r\n")?.version, .http10)
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\n\r\n")?.version, .http11)
        // A higher minor version of HTTP/1 is served as the highest we implement (RFC 9112 §2.3),
        // with 1.1's rules: Host required, keep-alive by default.
        for version in ["HTTP/1.2", "HTTP/1.9"] {
            XCTAssertEqual(head("GET / \(version)\r\nHost: a\r\n\r\n")?.version, .http11, version)
            XCTAssertEqual(head("GET / \(version)\r\nHost: a\r\n\r\n")?.keepAlive, true, version)
            assertRejects("GET / \(version)\r\n\r\n", .missingHost)
        }
        // Well-formed but another major version: 505.
        for version in ["HTTP/2.0", "HTTP/0.9", "HTTP/3.0", "HTTP/9.9", "HTTP/2.1"] {
            assertRejects("GET / \(version)\r\nHost: a\r\n\r\n", .unsupportedVersion)
        }
        XCTAssertEqual(HTTPParseError.unsupportedVersion.code, 505)
        // Not an HTTP version at all: 400.
        for version in ["HTTP/1", "HTPT/1.1", "http/1.1", "HTTP/1.1.1", "HTTP/11.1", "HTTP/1.x", "HTTP/1,1", "HTTP 1.1", "HTTP/ 1.1", "ＨTTP/1.1"] {
            assertRejects("GET / \(version)\r\nHost: a\r\n\r\n", .invalidVersion)
        }
    }

    func testTargetForms() {
        XCTAssertEqual(head("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")?.target, "*")
        XCTAssertEqual(head("GET http://example.com/x HTTP/1.1\r\nHost: example.com\r\n\r\n")?.target, "http://example.com/x")
        XCTAssertEqual(head("GET svn+ssh://h/x HTTP/1.1\r\nHost: h\r\n\r\n")?.target, "svn+ssh://h/x")
        XCTAssertEqual(head("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")?.target, "example.com:443")
        assertRejects("GET * HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTargetForm)
        assertRejects("GET example.com HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTargetForm)
        assertRejects("GET 1http://x/ HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTargetForm)
        assertRejects("GET ?x HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTargetForm)
        assertRejects("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTargetForm)
        assertRejects("CONNECT * HTTP/1.1\r\nHost: a\r\n\r\n", .invalidTargetForm)
    }

    func testLeadingEmptyLinesAreIgnoredButBounded() {
        XCTAssertEqual(head("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")?.target, "/")
        let eight = String(repeating: "\r\n", count: 8)
        XCTAssertEqual(head("\(eight)GET / HTTP/1.1\r\nHost: a\r\n\r\n")?.method, .get)
        assertRejects("\(eight)\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .tooManyEmptyLines)
        XCTAssertEqual(head("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", limits: .init(maxLeadingEmptyLines: 1))?.method, .get)
        assertRejects("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .tooManyEmptyLines, limits: .init(maxLeadingEmptyLines: 0))
        // A leading empty line must be a CRLF too.
        assertRejects("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", .bareLF)
        // A CR alone is not an empty line.
        assertRejects("\r\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod)
    }

    func testLineTerminatorMustBeCRLF() {
        // Choice: bare LF is refused everywhere (RFC 9112 §2.2 allows either); see HeadAssembler.
        assertRejects("GET / HTTP/1.1\nHost: a\r\n\r\n", .bareLF)
        assertRejects("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", .invalidVersion)
        assertRejects("GET / HTTP/1.1\rHost: a\r\n\r\n", .invalidVersion)
        assertRejects("GET\r / HTTP/1.1\r\nHost: a\r\n\r\n", .invalidMethod)
    }

    func testIncompleteRequestLineWaits() {
        XCTAssertEqual(parse("GET / HTTP/1.1"), [])
        XCTAssertEqual(parse("GET / HTTP/1.1\r"), [])
        XCTAssertEqual(parse("\r"), [])
        XCTAssertEqual(parse("\r\n\r\n"), [])
    }

    func testStatusesAndReasonPhrases() {
        XCTAssertEqual(HTTPParseError.invalidMethod.status, .badRequest)
        XCTAssertEqual(HTTPParseError.invalidMethod.description, "400 invalid character in method")
        XCTAssertEqual(HTTPParseError.Status.uriTooLong.reasonPhrase, "URI Too Long")
        XCTAssertEqual(HTTPParseError.Status.contentTooLarge.rawValue, 413)
    }
}
