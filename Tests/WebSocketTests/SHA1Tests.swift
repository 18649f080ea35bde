import WebSocket
import XCTest

/// RFC 3174 §7.3's test vectors, and RFC 6455 §1.3's handshake example.
final class SHA1Tests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    func testRFC3174Vectors() {
        XCTAssertEqual(hex(SHA1.digest(Array("abc".utf8))), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(hex(SHA1.digest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        XCTAssertEqual(hex(SHA1.digest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))),
                       "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        let eighty = [UInt8](String(repeating: "0123456701234567012345670123456701234567012345670123456701234567", count: 10).utf8)
        XCTAssertEqual(hex(SHA1.digest(eighty)), "dea356a2cddd90c7a7ecedc5ebb563934f460452")
    }

    func testEmptyAndBlockEdges() {
        XCTAssertEqual(hex(SHA1.digest([])), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        // 55, 56 and 64 bytes: the padding fits, just does not, and takes a block of its own.
        XCTAssertEqual(hex(SHA1.digest([UInt8](repeating: 0x61, count: 55))), "c1c8bbdc22796e28c0e15163d20899b65621d65a")
        XCTAssertEqual(hex(SHA1.digest([UInt8](repeating: 0x61, count: 56))), "c2db330f6083854c99d4b5bfb6e8f29f201be699")
        XCTAssertEqual(hex(SHA1.digest([UInt8](repeating: 0x61, count: 64))), "0098ba824b5c16427bd7a1122a5a442a25ec644d")
    }

    func testAcceptValueFromRFC6455() {
        XCTAssertEqual(FrameEncoder.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    func testBase64RoundTripsAndRefusesNonCanonical() {
        for count in 0..<40 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes, "\(count) bytes")
        }
        XCTAssertEqual(Base64.encode(Array("foobar".utf8)), "Zm9vYmFy")
        XCTAssertEqual(Base64.encode(Array("fo".utf8)), "Zm8=")
        XCTAssertEqual(Base64.decode("dGhlIHNhbXBsZSBub25jZQ==")?.count, 16)
        XCTAssertNil(Base64.decode("abc"))
        XCTAssertNil(Base64.decode("ab=c"))
        XCTAssertNil(Base64.decode("ab!c"))
    }
}
