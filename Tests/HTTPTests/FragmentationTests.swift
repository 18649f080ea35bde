import TestSupport
import XCTest

@testable import HTTP

/// The same bytes give the same events however they are split. Every test in this target already
/// goes through `parse(_:)`, which compares the whole input with every two-way split and with one
/// byte at a time; these tests add three-way splits, random chunkings of long streams, and the
/// promise that nothing points into the caller's buffer once a call returns.
final class FragmentationTests: XCTestCase {
    static let corpus: [String] = [
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "\r\nPOST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
        "PUT /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n",
        "PUT /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
        "PUT /u HTTP/1.1\r\nHost: a\r\nExpect: other\r\nContent-Length: 2\r\n\r\nokGET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n",
        "GET / HTTP/1.1\nHost: a\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX",
        "GET / HTTP/2.0\r\n\r\n",
        "BAD\u{1}METHOD / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\r\n",
        "\r\r\n",
    ]

    func testCorpusSplitInTwoAndByteByByte() {
        for request in Self.corpus { _ = parse(request) }
    }

    func testCorpusSplitInThree() {
        for request in Self.corpus {
            let input = Array(request.utf8)
            let whole = Feeder.run(input, cuts: [])
            for first in 1..<input.count {
                for second in (first + 1)..<max(first + 1, input.count) {
                    let split = Feeder.run(input, cuts: [first, second])
                    guard split == whole else {
                        return XCTFail("\(request.debugDescription) cut at \(first), \(second): \(split) vs \(whole)")
                    }
                }
            }
        }
    }

    func testLongPipelinedStreamInRandomChunks() {
        var random = SeededGenerator(state: 7)
        let stream = Array(String(repeating: Self.corpus[0] + Self.corpus[2] + Self.corpus[4], count: 20).utf8)
        let whole = Feeder.run(stream, cuts: [])
        XCTAssertEqual(whole.filter { $0 == .end }.count, 80)
        for _ in 0..<50 {
            var cuts: [Int] = []
            var position = 0
            while true {
                position += Int.random(in: 1...64, using: &random)
                guard position < stream.count else { break }
                cuts.append(position)
            }
            XCTAssertEqual(Feeder.run(stream, cuts: cuts), whole)
        }
    }

    func testTheHeadOwnsItsBytes() throws {
        var input = Array("GET /path HTTP/1.1\r\nHost: example\r\nX-A: b\r\n\r\n".utf8)
        var parser = RequestParser()
        let output = input.withUnsafeBytes { parser.parse($0) }
        guard case .head(let head) = output.event else { return XCTFail("\(output.event)") }
        for index in input.indices { input[index] = 0x5A }
        XCTAssertEqual(head.target, "/path")
        XCTAssertEqual(head.host, "example")
        XCTAssertEqual(head.headers.first(name: "x-a"), "b")
    }
}
