import HTTPServer
import XCTest

final class HTTPDateTests: XCTestCase {
    /// RFC 9110 §5.6.7's example instant in all three forms.
    let example = 784_111_777

    func testFormatsIMFFixdate() {
        XCTAssertEqual(HTTPDate.format(example), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(HTTPDate.format(0), "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    func testParsesTheThreeForms() {
        XCTAssertEqual(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT"), example)
        XCTAssertEqual(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT"), example)
        XCTAssertEqual(HTTPDate.parse("Sun Nov  6 08:49:37 1994"), example)
    }

    func testRejectsWhatIsNotADate() {
        for text in ["", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
                     "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                     "Sun, 06 Nov 1994 08:49 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT"] {
            XCTAssertNil(HTTPDate.parse(text), text)
        }
    }

    func testRoundTrips() {
        for seconds in [0, 1, 951_782_400, 1_700_000_000, 2_000_000_000] {
            XCTAssertEqual(HTTPDate.parse(HTTPDate.format(seconds)), seconds)
        }
    }

    func testDateCacheRebuildsOnlyWhenTheSecondChanges() {
        var cache = DateCache()
        XCTAssertEqual(cache.value(now: example), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(cache.value(now: example), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(cache.value(now: example + 1), "Sun, 06 Nov 1994 08:49:38 GMT")
    }
}
