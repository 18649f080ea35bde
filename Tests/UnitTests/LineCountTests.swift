import XCTest

@testable import Echo

/// `LineEchoService.countLines`: the number of `\n` in a read, which is what the echo reports as
/// requests.
final class LineCountTests: XCTestCase {
    func count(_ text: String) throws -> UInt64 {
        try count(Array(text.utf8))
    }

    func count(_ bytes: [UInt8]) throws -> UInt64 {
        var bytes = bytes
        return bytes.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return 0 }
            return LineEchoService.countLines(base, raw.count)
        }
    }

    func testCountsNewlines() throws {
        XCTAssertEqual(try count(""), 0)
        XCTAssertEqual(try count("no newline"), 0)
        XCTAssertEqual(try count("a\n"), 1)
        XCTAssertEqual(try count("\n"), 1)
        XCTAssertEqual(try count("\n\n\n"), 3)
        XCTAssertEqual(try count("a\nb"), 1, "a partial line is not counted")
        XCTAssertEqual(try count("one\ntwo\r\nthree\n"), 3)
        XCTAssertEqual(try count("\r\r"), 0)
    }

    func testOnlyTheGivenBytesAreSearched() throws {
        var bytes = Array("a\nb\nc\n".utf8)
        let counts = bytes.withUnsafeMutableBytes { raw -> [UInt64] in
            guard let base = raw.baseAddress else { return [] }
            return (0...raw.count).map { LineEchoService.countLines(base, $0) }
        }
        XCTAssertEqual(counts, [0, 0, 1, 1, 2, 2, 3])
    }

    func testLargeBuffer() throws {
        var bytes = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
        var expected: UInt64 = 0
        for index in stride(from: 0, to: bytes.count, by: 37) {
            bytes[index] = 10
            expected += 1
        }
        bytes[bytes.count - 1] = 10
        expected += 1
        XCTAssertEqual(try count(bytes), expected)
        XCTAssertEqual(try count([UInt8](repeating: 10, count: 64 * 1024)), 64 * 1024)
        XCTAssertEqual(try count([UInt8](repeating: 0, count: 64 * 1024)), 0, "NUL bytes are not newlines")
    }
}
