import EventLoop
import XCTest

@testable import Echo

/// `LineEchoService.countLines`: the number of `\n` in a read, which is what the echo reports as
/// requests.
final class LineCountTests: XCTestCase {
    /// `countLines` is isolated to `LoopActor`, whose executor is this process's event loop. XCTest
    /// runs synchronous tests on the main thread, so the loop is booted there once and the call made
    /// in its isolation domain (the loop is never run).
    static let loop: EventLoop? = try? EventLoop.boot()

    func count(_ text: String) throws -> UInt64 {
        try count(Array(text.utf8))
    }

    func count(_ bytes: [UInt8]) throws -> UInt64 {
        XCTAssertNotNil(Self.loop, "EventLoop.boot() failed")
        var bytes = bytes
        return bytes.withUnsafeMutableBytes { raw in
            // The pointer never leaves this thread: `assumeIsolated` runs the closure right here.
            guard let address = raw.baseAddress else { return 0 }
            nonisolated(unsafe) let base = address
            let length = raw.count
            return LoopActor.assumeIsolated { LineEchoService.countLines(base, length) }
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
        XCTAssertNotNil(Self.loop)
        var bytes = Array("a\nb\nc\n".utf8)
        let counts = bytes.withUnsafeMutableBytes { raw -> [UInt64] in
            guard let address = raw.baseAddress else { return [] }
            nonisolated(unsafe) let base = address
            let length = raw.count
            return LoopActor.assumeIsolated { (0...length).map { LineEchoService.countLines(base, $0) } }
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
