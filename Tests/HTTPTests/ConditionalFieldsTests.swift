import XCTest

@testable import HTTP

/// The four fields' values, as a handler reads them through `ConditionalFields`.
struct FoundConditions: Equatable {
    var ifNoneMatch, ifModifiedSince, ifRange, range: String?
    init(ifNoneMatch: String? = nil, ifModifiedSince: String? = nil, ifRange: String? = nil, range: String? = nil) {
        (self.ifNoneMatch, self.ifModifiedSince, self.ifRange, self.range) = (ifNoneMatch, ifModifiedSince, ifRange, range)
    }
}

/// `ConditionalFields` finds the four fields in one pass: each alone, all together, in any letter
/// case, the first of a repeated name, and nothing for look-alike names.
final class ConditionalFieldsTests: XCTestCase {
    func fields(_ lines: String..., file: StaticString = #filePath, line: UInt = #line) throws -> FoundConditions {
        let text = "GET /f HTTP/1.1\r\nHost: x\r\n" + lines.map { $0 + "\r\n" }.joined() + "\r\n"
        let headers = try XCTUnwrap(head(text, file: file, line: line), file: file, line: line).headers
        let found = ConditionalFields(headers)
        return FoundConditions(ifNoneMatch: headers.value(at: found.ifNoneMatch), ifModifiedSince: headers.value(at: found.ifModifiedSince),
                               ifRange: headers.value(at: found.ifRange), range: headers.value(at: found.range))
    }

    func testNoneOfThemIsAllNil() throws {
        XCTAssertEqual(try fields("Accept: */*", "Connection: keep-alive"), FoundConditions())
    }

    func testEachAlone() throws {
        XCTAssertEqual(try fields("If-None-Match: \"a\""), FoundConditions(ifNoneMatch: "\"a\""))
        XCTAssertEqual(try fields("If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"),
                       FoundConditions(ifModifiedSince: "Thu, 01 Jan 1970 00:00:00 GMT"))
        XCTAssertEqual(try fields("If-Range: \"b\""), FoundConditions(ifRange: "\"b\""))
        XCTAssertEqual(try fields("Range: bytes=0-9"), FoundConditions(range: "bytes=0-9"))
    }

    func testAllTogetherInAnyCaseAndOrder() throws {
        let found = try fields("range: bytes=1-2", "IF-RANGE: \"r\"", "User-Agent: t", "if-modified-since: D", "If-None-match:  \"n\" ")
        XCTAssertEqual(found, FoundConditions(ifNoneMatch: "\"n\"", ifModifiedSince: "D", ifRange: "\"r\"", range: "bytes=1-2"))
    }

    func testTheFirstOfARepeatedNameWins() throws {
        let found = try fields("Range: bytes=0-0", "Range: bytes=5-", "If-None-Match: \"1\"", "if-none-match: \"2\"")
        XCTAssertEqual(found, FoundConditions(ifNoneMatch: "\"1\"", range: "bytes=0-0"))
    }

    func testLookAlikesOfTheSameLengthAreNotThem() throws {
        // Same lengths as the four names (13, 17, 8, 5), one letter off.
        XCTAssertEqual(try fields("If-None-Matck: x", "If-Modified-Sincf: x", "If-Rangf: x", "Rangf: x", "X-Range: x"),
                       FoundConditions())
    }
}
