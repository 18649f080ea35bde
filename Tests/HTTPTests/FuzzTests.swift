import TestSupport
import XCTest

@testable import HTTP

/// Random input never crashes the parser, never stalls it, and never depends on how it is split.
final class FuzzTests: XCTestCase {
    /// Bytes that matter to the grammar, so random input reaches past the first check.
    static let interesting = Array("GET / HTTP/1.1\r\n:; ,\t0123456789abcdefABCDEF-Host Content-Length Transfer-Encoding chunked".utf8)
        + [0, 0x7F, 0x80, 0xFF, 0x0D, 0x0A, 0x0D, 0x0A]

    func randomBytes(_ count: Int, _ random: inout SeededGenerator) -> [UInt8] {
        (0..<count).map { _ in
            Bool.random(using: &random)
                ? Self.interesting[Int.random(in: 0..<Self.interesting.count, using: &random)]
                : UInt8.random(in: 0...255, using: &random)
        }
    }

    func randomCuts(_ count: Int, _ random: inout SeededGenerator) -> [Int] {
        guard count > 1 else { return [] }
        return Array(Set((0..<Int.random(in: 0...5, using: &random)).map { _ in Int.random(in: 1..<count, using: &random) })).sorted()
    }

    /// Each call consumes something, reports a non-input event, or waits having consumed everything;
    /// a closing error is final.
    func assertMakesProgress(_ input: [UInt8], file: StaticString = #filePath, line: UInt = #line) {
        var parser = RequestParser(limits: .init(maxRequestLineLength: 64, maxHeaderBlockLength: 128, maxBodyLength: 64))
        input.withUnsafeBytes { raw in
            var offset = 0
            var idleCalls = 0
            while idleCalls < 3 {
                let output = parser.parse(UnsafeRawBufferPointer(rebasing: raw[offset...]))
                XCTAssertLessThanOrEqual(output.consumed, raw.count - offset, file: file, line: line)
                offset += output.consumed
                switch output.event {
                case .needMore:
                    XCTAssertEqual(offset, raw.count, file: file, line: line)
                    return
                case .error(let error) where error.closesConnection:
                    return
                default:
                    // `.end` after a body-less head consumes nothing; twice in a row would be a stall.
                    idleCalls = output.consumed == 0 ? idleCalls + 1 : 0
                }
            }
            XCTFail("no progress at offset \(offset)", file: file, line: line)
        }
    }

    func testRandomBytes() {
        var random = SeededGenerator(state: 2024)
        for _ in 0..<3_000 {
            let input = randomBytes(Int.random(in: 0...200, using: &random), &random)
            assertMakesProgress(input)
            let whole = Feeder.run(input, cuts: [])
            XCTAssertEqual(Feeder.run(input, cuts: randomCuts(input.count, &random)), whole, "\(input)")
        }
    }

    func testMutatedRequests() {
        var random = SeededGenerator(state: 9)
        let corpus = FragmentationTests.corpus.map { Array($0.utf8) }
        let limits = RequestParser.Limits(maxRequestLineLength: 40, maxHeaderBlockLength: 90, maxHeaderCount: 3, maxBodyLength: 8,
                                          maxChunkLineLength: 8, maxTrailerBlockLength: 12, maxLeadingEmptyLines: 1)
        for _ in 0..<1_500 {
            var input = corpus[Int.random(in: 0..<corpus.count, using: &random)]
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let position = Int.random(in: 0...input.count, using: &random)
                let byte = Bool.random(using: &random) ? Self.interesting.randomElement(using: &random) ?? 0 : UInt8.random(in: 0...255, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: input.insert(byte, at: position)
                case 1 where position < input.count: input[position] = byte
                default: if position < input.count { input.remove(at: position) }
                }
            }
            assertMakesProgress(input)
            for limits in [RequestParser.Limits(), limits] {
                let whole = Feeder.run(input, cuts: [], limits: limits)
                XCTAssertEqual(Feeder.run(input, cuts: randomCuts(input.count, &random), limits: limits), whole, "\(input)")
                if input.count > 1 {
                    XCTAssertEqual(Feeder.run(input, cuts: Array(1..<input.count), limits: limits), whole, "\(input)")
                }
            }
        }
    }
}
