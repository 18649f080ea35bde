import XCTest

@testable import HTTP

/// Field lines (RFC 9112 §5): `name ":" OWS value OWS`, nothing folded, nothing hidden.
final class HeaderSyntaxTests: XCTestCase {
    func testFieldsKeepOrderAndCaseAndAreFoundInAnyCase() throws {
        let request = try XCTUnwrap(head(
            "GET / HTTP/1.1\r\nHost: a\r\nX-Thing: one\r\nAccept: text/html\r\nx-thing: two\r\nX-THING:three\r\n\r\n"))
        XCTAssertEqual(request.headers.map(\.name), ["Host", "X-Thing", "Accept", "x-thing", "X-THING"])
        XCTAssertEqual(request.headers.map(\.value), ["a", "one", "text/html", "two", "three"])
        XCTAssertEqual(request.headers.first(name: "x-thing"), "one")
        XCTAssertEqual(request.headers.first(name: "X-THING"), "one")
        XCTAssertEqual(request.headers.values(name: "X-Thing"), ["one", "two", "three"])
        XCTAssertEqual(request.headers.firstIndex(name: "accept"), 2)
        XCTAssertTrue(request.headers.contains(name: "ACCEPT"))
        XCTAssertFalse(request.headers.contains(name: "accep"))
        XCTAssertNil(request.headers.first(name: "cookie"))
        XCTAssertEqual(request.headers.values(name: "cookie"), [])
        XCTAssertEqual(request.headers[1].name, "X-Thing")
    }

    func testValuesLoseSurroundingWhitespaceOnly() throws {
        let request = try XCTUnwrap(head("GET / HTTP/1.1\r\nHost: a\r\nA: \t spaced  out \t \r\nB:\r\nC:   \r\nD:x\ty\r\n\r\n"))
        XCTAssertEqual(request.headers.first(name: "a"), "spaced  out")
        XCTAssertEqual(request.headers.first(name: "b"), "")
        XCTAssertEqual(request.headers.first(name: "c"), "")
        XCTAssertEqual(request.headers.first(name: "d"), "x\ty")
    }

    func testObsTextIsKeptAsUTF8() throws {
        let request = try XCTUnwrap(head("GET / HTTP/1.1\r\nHost: a\r\nName: José\r\n\r\n"))
        XCTAssertEqual(request.headers.first(name: "name"), "José")
        let latin1 = Array("GET / HTTP/1.1\r\nHost: a\r\nName: Jos".utf8) + [0xE9] + Array("\r\n\r\n".utf8)
        guard case .head(let head) = parse(latin1).first else { return XCTFail("no head") }
        XCTAssertEqual(head.headers.first(name: "name"), "Jos\u{FFFD}")
    }

    func testWhitespaceBetweenNameAndColonIsRefused() {
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\nhello", .whitespaceInFieldName)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX-A\t: 1\r\n\r\n", .whitespaceInFieldName)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX A: 1\r\n\r\n", .whitespaceInFieldName)
    }

    func testObsoleteLineFoldingIsRefused() {
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n", .obsoleteLineFolding)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\t2\r\n\r\n", .obsoleteLineFolding)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n \r\n\r\n", .obsoleteLineFolding)
    }

    func testWhitespaceBeforeTheFirstFieldIsRefused() {
        assertRejects("GET / HTTP/1.1\r\n Host: a\r\n\r\n", .whitespaceBeforeFirstField)
        assertRejects("GET / HTTP/1.1\r\n\tHost: a\r\n\r\n", .whitespaceBeforeFirstField)
    }

    func testMalformedFieldLines() {
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n", .missingColon)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\n: value\r\n\r\n", .emptyFieldName)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX(A): 1\r\n\r\n", .invalidFieldName)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX/A: 1\r\n\r\n", .invalidFieldName)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nNamé: 1\r\n\r\n", .invalidFieldName)
    }

    func testControlBytesInValuesAreRefused() {
        for control in ["\u{0}", "\u{1}", "\u{8}", "\u{B}", "\u{C}", "\u{1F}", "\u{7F}"] {
            assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\(control)b\r\n\r\n", .invalidFieldValue)
        }
        // A tab inside a value is fine.
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\tb\r\n\r\n")?.headers.first(name: "x-a"), "a\tb")
    }

    func testBareCRAnywhereInTheHeadIsRefused() {
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n", .invalidFieldValue)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: ab\r\r\n\r\n", .invalidFieldValue)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX\rA: 1\r\n\r\n", .invalidFieldName)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\n\rX-A: 1\r\n\r\n", .invalidFieldName)
        // A CR where the final empty line should be.
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", .invalidFieldName)
    }

    func testBareLFInTheFieldsIsRefused() {
        assertRejects("GET / HTTP/1.1\r\nHost: a\nX-A: 1\r\n\r\n", .bareLF)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\n\n", .bareLF)
        assertRejects("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\n\r\n", .bareLF)
    }

    func testRequestWithoutFields() throws {
        let request = try XCTUnwrap(head("GET / HTTP/1.0\r\n\r\n"))
        XCTAssertTrue(request.headers.isEmpty)
        XCTAssertNil(request.host)
    }

    func testTokenCharactersAreExactlyTheRFCs() {
        // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
        let tchar = Set(Array("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8))
        for byte in UInt8.min...UInt8.max {
            XCTAssertEqual(byte.isTokenChar, tchar.contains(byte), "byte \(byte)")
        }
        let hostChars = Set(Array("abcxyzABCXYZ0189-._~%!$&'()*+,;=:[]".utf8))
        for byte in Array(" \"#/<>?@\\^`{|}\u{7F}\u{0}".utf8) + [0x80, 0xFF] {
            XCTAssertFalse(byte.isHostChar, "byte \(byte)")
        }
        for byte in hostChars { XCTAssertTrue(byte.isHostChar, "byte \(byte)") }
        // Every byte, against the set written out (RFC 3986 reg-name, IP-literal brackets, port colon).
        let allHostChars = Set(Array("!$%&'()*+,-.:;=[]_~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8))
        for byte in UInt8.min...UInt8.max {
            XCTAssertEqual(byte.isHostChar, allHostChars.contains(byte), "byte \(byte)")
        }
    }
}
