import XCTest

@testable import HTTP

/// `equalsIgnoringCase` compares eight bytes at a time: every byte value at every offset of the
/// literals the parser uses (in a word and in the tail) gets the answer of the one-byte rule, so
/// a control byte never passes for `-` or a digit and a letter matches in either case only.
final class CaseFoldTests: XCTestCase {
    func testEveryByteAtEveryOffsetAgreesWithTheOneByteRule() {
        let literals: [StaticString] = ["host", "expect", "chunked", "connection", "keep-alive", "100-continue",
                                        "content-length", "transfer-encoding",
                                        "if-none-match", "if-modified-since", "if-range", "range"]
        for literal in literals {
            let expected = Array(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
            for position in expected.indices {
                for value in 0...255 {
                    var bytes = [UInt8](repeating: UInt8(ascii: "x"), count: 3) + expected
                    bytes[3 + position] = UInt8(value)
                    let rule = UInt8(value).asciiLowercased == expected[position]
                    bytes.withUnsafeBytes { raw in
                        XCTAssertEqual(raw.equalsIgnoringCase(3..<bytes.count, literal), rule,
                                       "\(literal), byte \(value) at \(position)")
                    }
                }
            }
        }
    }

    func testMixedCaseMatchesAndOtherLengthsDoNot() {
        let bytes = Array("Keep-ALIVE Transfer-Encoding".utf8)
        bytes.withUnsafeBytes { raw in
            XCTAssertTrue(raw.equalsIgnoringCase(0..<10, "keep-alive"))
            XCTAssertTrue(raw.equalsIgnoringCase(11..<28, "transfer-encoding"))
            XCTAssertFalse(raw.equalsIgnoringCase(0..<9, "keep-alive"), "a prefix is not the word")
            XCTAssertFalse(raw.equalsIgnoringCase(11..<28, "transfer-encodinh"))
        }
    }
}
