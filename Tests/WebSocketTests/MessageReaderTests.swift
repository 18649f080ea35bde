import TestSupport
import WebSocket
import XCTest

/// The frame reader, fed client frames as bytes: lengths at each encoding's edges, masking,
/// fragments, every protocol error with its close code, and every way of cutting the input.
final class MessageReaderTests: XCTestCase {
    let mask: (UInt8, UInt8, UInt8, UInt8) = (0x37, 0xFA, 0x21, 0x3D)

    /// Every event `bytes` yields, fed in pieces of at most `step` bytes.
    private func events(_ bytes: [UInt8], step: Int = .max, limit: Int = 1 << 20) -> [MessageReader.Event] {
        var pieces: [[UInt8]] = []
        var index = 0
        while index < bytes.count {
            pieces.append(Array(bytes[index..<min(bytes.count, index + step)]))
            index = min(bytes.count, index + step)
        }
        return events(pieces, limit: limit)
    }

    /// Every event the pieces yield, fed one after the other (up to the first failure).
    private func events(_ pieces: [[UInt8]], limit: Int = 1 << 20) -> [MessageReader.Event] {
        var reader = MessageReader(maxMessageSize: limit)
        var out: [MessageReader.Event] = []
        for piece in pieces {
            var offset = 0
            while true {
                let (consumed, event) = piece.withUnsafeBytes { reader.read(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
                offset += consumed
                if case .needMore = event { break }
                out.append(event)
                if case .failure = event { return out }
            }
            XCTAssertEqual(offset, piece.count, "a needMore consumes everything given")
        }
        return out
    }

    private func frame(_ opcode: Opcode, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        FrameEncoder.frame(opcode, payload, fin: fin, mask: mask)
    }

    private func failureCode(_ events: [MessageReader.Event]) -> UInt16? {
        guard case let .failure(code, _)? = events.last else { return nil }
        return code.rawValue
    }

    func testLengthsAtEachEncodingsEdges() {
        for length in [0, 1, 125, 126, 127, 65535, 65536, 70000] {
            let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            let bytes = frame(.binary, payload)
            let headerSize = length <= 125 ? 6 : length <= 65535 ? 8 : 14
            XCTAssertEqual(bytes.count, headerSize + length, "\(length) bytes: header of \(headerSize)")
            XCTAssertEqual(events(bytes), [.message(.binary(payload))], "\(length) bytes")
        }
    }

    func testMaskIsRemovedAndAServersFramesAreUnmasked() {
        let masked = frame(.text, Array("Hello".utf8))
        XCTAssertEqual(masked, [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])  // RFC 6455 §5.7
        XCTAssertEqual(events(masked), [.message(.text("Hello"))])
        XCTAssertEqual(FrameEncoder.frame(.text, Array("Hello".utf8)), [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
    }

    /// A conversation of every kind of frame, cut at every byte boundary and then byte by byte,
    /// reads the same as in one piece.
    func testFragmentationAtEveryByteBoundary() {
        let conversation = frame(.text, Array("frag".utf8), fin: false) + frame(.ping, [1, 2]) + frame(.continuation, Array("mented ✓".utf8), fin: false)
            + frame(.continuation, [], fin: true) + frame(.binary, [UInt8](repeating: 9, count: 300)) + frame(.pong, [])
            + frame(.close, [0x03, 0xE8] + Array("bye".utf8))
        let expected: [MessageReader.Event] = [.ping([1, 2]), .message(.text("fragmented ✓")), .message(.binary([UInt8](repeating: 9, count: 300))),
                                               .pong([]), .close(.normal, reason: "bye")]
        XCTAssertEqual(events(conversation), expected)
        XCTAssertEqual(events(conversation, step: 1), expected)
        for cut in 1..<conversation.count {
            XCTAssertEqual(events([Array(conversation[..<cut]), Array(conversation[cut...])]), expected, "cut at \(cut)")
        }
    }

    func testUTF8IsCheckedAcrossFragmentsAndRefusedAtOnce() {
        // "✓" is E2 9C 93: split across two frames it is valid.
        let split = frame(.text, [0x61, 0xE2], fin: false) + frame(.continuation, [0x9C, 0x93])
        XCTAssertEqual(events(split), [.message(.text("a✓"))])
        // Invalid in the first fragment: refused before the message ends.
        XCTAssertEqual(failureCode(events(frame(.text, [0x61, 0xC0, 0x80], fin: false))), 1007)
        XCTAssertEqual(failureCode(events(frame(.text, [0xED, 0xA0, 0x80]))), 1007, "a surrogate")
        XCTAssertEqual(failureCode(events(frame(.text, [0xF4, 0x90, 0x80, 0x80]))), 1007, "above U+10FFFF")
        XCTAssertEqual(failureCode(events(frame(.text, [0x61, 0xE2, 0x9C]))), 1007, "ends inside a code point")
        XCTAssertEqual(failureCode(events(frame(.close, [0x03, 0xE8, 0xFF]))), 1007, "close reason")
        XCTAssertEqual(events(frame(.binary, [0xFF])), [.message(.binary([0xFF]))], "binary is not checked")
    }

    func testProtocolErrorsClose1002() {
        let cases: [(String, [UInt8])] = [
            ("unmasked", FrameEncoder.frame(.text, Array("hi".utf8))),
            ("RSV1", [0xC1, 0x80, 0, 0, 0, 0]),
            ("RSV3", [0x91, 0x80, 0, 0, 0, 0]),
            ("opcode 3", [0x83, 0x80, 0, 0, 0, 0]),
            ("opcode 0xB", [0x8B, 0x80, 0, 0, 0, 0]),
            ("ping of 126", frame(.ping, [UInt8](repeating: 0, count: 126))),
            ("fragmented ping", frame(.ping, [], fin: false)),
            ("stray continuation", frame(.continuation, [1])),
            ("new message inside one", frame(.text, [0x61], fin: false) + frame(.text, [0x62])),
            ("close of one byte", frame(.close, [3])),
            ("close code 1005", frame(.close, [0x03, 0xED])),
            ("close code 999", frame(.close, [0x03, 0xE7])),
            ("length with the top bit", [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]),
        ]
        for (name, bytes) in cases {
            XCTAssertEqual(failureCode(events(bytes)), 1002, name)
            XCTAssertEqual(failureCode(events(bytes, step: 1)), 1002, "\(name), byte by byte")
        }
    }

    func testFailureIsFinal() {
        var reader = MessageReader(maxMessageSize: 100)
        let bad: [UInt8] = [0x83, 0x80, 0, 0, 0, 0]
        _ = bad.withUnsafeBytes { reader.read($0) }
        let good = frame(.text, [0x61])
        let (_, event) = good.withUnsafeBytes { reader.read($0) }
        XCTAssertEqual(event, .failure(.protocolError, reason: "reserved opcode 3"))
    }

    /// A frame bomb: the declared length alone is refused (1009), from the header, with no
    /// payload sent; and a message whose fragments add up past the limit.
    func testOversizedMessagesClose1009FromTheDeclaredLength() {
        let bomb: [UInt8] = [0x82, 0xFF, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 1, 2, 3, 4]  // 1 TiB
        XCTAssertEqual(failureCode(events(bomb, limit: 1 << 20)), 1009)
        XCTAssertEqual(failureCode(events(frame(.binary, [UInt8](repeating: 0, count: 101)), limit: 100)), 1009)
        XCTAssertEqual(events(frame(.binary, [UInt8](repeating: 0, count: 100)), limit: 100), [.message(.binary([UInt8](repeating: 0, count: 100)))])
        let fragments = frame(.binary, [UInt8](repeating: 0, count: 60), fin: false) + frame(.continuation, [UInt8](repeating: 0, count: 41))
        XCTAssertEqual(failureCode(events(fragments, limit: 100)), 1009)
    }

    func testUTF8ValidatorAgreesWithTheStandardLibrary() {
        var generator = SeededGenerator(state: 6455)
        let alphabet: [UInt8] = [0x41, 0x80, 0xBF, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xA0, 0x90, 0x8F, 0xFF]
        for _ in 0..<5000 {
            let count = Int.random(in: 0..<8, using: &generator)
            var bytes: [UInt8] = []
            for _ in 0..<count { bytes.append(alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]) }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            XCTAssertEqual(UTF8Validator.isValid(bytes), expected, "\(bytes)")
        }
    }
}
