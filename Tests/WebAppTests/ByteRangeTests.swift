import WebApp
import XCTest

final class ByteRangeTests: XCTestCase {
    func testSingleRanges() {
        XCTAssertEqual(ByteRange(header: "bytes=0-99", size: 1000), .partial(first: 0, last: 99))
        XCTAssertEqual(ByteRange(header: "bytes=500-", size: 1000), .partial(first: 500, last: 999), "open range")
        XCTAssertEqual(ByteRange(header: "bytes=-100", size: 1000), .partial(first: 900, last: 999), "suffix")
        XCTAssertEqual(ByteRange(header: "bytes=-5000", size: 1000), .partial(first: 0, last: 999), "suffix longer than the file")
        XCTAssertEqual(ByteRange(header: "bytes=900-5000", size: 1000), .partial(first: 900, last: 999), "end clipped")
        XCTAssertEqual(ByteRange(header: " bytes=1-1 ", size: 2), .partial(first: 1, last: 1))
    }

    func testUnsatisfiable() {
        XCTAssertEqual(ByteRange(header: "bytes=1000-", size: 1000), .unsatisfiable)
        XCTAssertEqual(ByteRange(header: "bytes=2000-3000", size: 1000), .unsatisfiable)
        XCTAssertEqual(ByteRange(header: "bytes=-0", size: 1000), .unsatisfiable)
        XCTAssertEqual(ByteRange(header: "bytes=0-", size: 0), .unsatisfiable, "no byte of an empty file")
    }

    func testIgnoredMeansWholeFile() {
        XCTAssertEqual(ByteRange(header: nil, size: 10), .whole)
        XCTAssertEqual(ByteRange(header: "items=0-1", size: 10), .whole, "other units")
        XCTAssertEqual(ByteRange(header: "bytes=0-1,3-4", size: 10), .whole, "several ranges")
        XCTAssertEqual(ByteRange(header: "bytes=5-1", size: 10), .whole, "last before first")
        XCTAssertEqual(ByteRange(header: "bytes=a-b", size: 10), .whole)
        XCTAssertEqual(ByteRange(header: "bytes=+1-2", size: 10), .whole)
        XCTAssertEqual(ByteRange(header: "bytes=99999999999999999999-", size: 10), .whole, "overflow")
        XCTAssertEqual(ByteRange(header: "bytes=", size: 10), .whole)
    }
}
