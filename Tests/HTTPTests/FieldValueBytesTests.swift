import XCTest

@testable import HTTP

/// `allFieldValueChars` checks eight bytes at a time: every byte value, at every offset of a word
/// and of the tail, alone or after another refused byte, gets the answer of the one-byte rule.
final class FieldValueBytesTests: XCTestCase {
    func testEveryByteAtEveryOffsetAgreesWithTheOneByteRule() {
        for length in 1...20 {
            for position in 0..<length {
                for value in 0...255 {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    bytes[position] = UInt8(value)
                    let expected = UInt8(value).isFieldValueChar
                    let got = bytes.withUnsafeBytes { $0.allFieldValueChars(0..<length) }
                    if got != expected {
                        XCTFail("byte 0x\(String(value, radix: 16)) at \(position) of \(length): \(got)")
                        return
                    }
                }
            }
        }
    }

    func testARefusedByteIsFoundBehindAllowedOnesThatLookAlike() {
        // HTAB and 0x20 next to a refused byte (a borrow in the word arithmetic), obs-text, and a
        // range that starts and ends inside the buffer.
        let cases: [([UInt8], Bool)] = [
            ([0x09, 0x20, 0x09, 0x20, 0x09, 0x20, 0x09, 0x20, 0x09], true),
            ([0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x1F, 0x20], false),
            ([0x1F, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20], false),
            ([0x80, 0x9F, 0xA0, 0xFF, 0x7E, 0x21, 0x80, 0x9F], true),
            ([0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7E, 0x7F], false),
            ([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], false),
        ]
        for (bytes, expected) in cases {
            XCTAssertEqual(bytes.withUnsafeBytes { $0.allFieldValueChars(0..<bytes.count) }, expected, "\(bytes)")
        }
        let framed: [UInt8] = [0x00] + Array(repeating: 0x61, count: 17) + [0x00]
        XCTAssertTrue(framed.withUnsafeBytes { $0.allFieldValueChars(1..<18) }, "the bytes outside the range are not read")
        XCTAssertFalse(framed.withUnsafeBytes { $0.allFieldValueChars(1..<19) })
    }
}
