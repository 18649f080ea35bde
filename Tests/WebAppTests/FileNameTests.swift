import HTTPServer
@testable import WebApp
import XCTest

final class FileNameTests: XCTestCase {
    func testAcceptsPlainAndEncodedNames() throws {
        XCTAssertEqual(try FileName(decoding: "report.pdf").value, "report.pdf")
        XCTAssertEqual(try FileName(decoding: "my%20file.txt").value, "my file.txt")
        XCTAssertEqual(try FileName(decoding: "caf%C3%A9").value, "café")
        XCTAssertEqual(try FileName(decoding: "a..b").value, "a..b", "dots inside a name are fine")
    }

    /// The cache's shortcut: a raw segment is taken for a name only when it is that name byte for
    /// byte and holds no `%` (which would make it another name once decoded).
    func testASegmentSpellsANameOnlyByteForByteWithoutEscapes() {
        XCTAssertTrue(FileName.isSpelled("13KB", bySegment: "13KB"))
        XCTAssertTrue(FileName.isSpelled("café", bySegment: "café"))
        XCTAssertTrue(FileName.isSpelled("a-rather-long-name-past-fifteen-bytes.bin", bySegment: "a-rather-long-name-past-fifteen-bytes.bin"))
        XCTAssertFalse(FileName.isSpelled("13KB", bySegment: "13K"))
        XCTAssertFalse(FileName.isSpelled("13KB", bySegment: "13KBx"))
        XCTAssertFalse(FileName.isSpelled("13KB", bySegment: "13kb"))
        XCTAssertFalse(FileName.isSpelled("a%41", bySegment: "a%41"), "decodes to aA")
        XCTAssertFalse(FileName.isSpelled("x", bySegment: ""))
        let path = "/files/13KB?x=1"
        XCTAssertTrue(FileName.isSpelled("13KB", bySegment: path.dropFirst(7).prefix(4)), "a slice of a longer string")
    }

    func testRefusesTraversalAndOddNames() {
        let cases: [(Substring, FileName.Problem)] = [
            ("", .empty), ("..", .hidden), (".", .hidden), (".hidden", .hidden), ("%2e%2e", .hidden), ("%2E%2e", .hidden),
            ("a%2Fb", .separator), ("a%2fb", .separator), ("..%2F..%2Fetc%2Fpasswd", .hidden), ("a%5Cb", .separator),
            ("a%00b", .control), ("a%0Ab", .control), ("%", .badEncoding), ("%4", .badEncoding), ("%zz", .badEncoding),
            ("%C3", .badEncoding), (Substring(String(repeating: "x", count: 256)), .tooLong),
        ]
        for (segment, problem) in cases {
            XCTAssertThrowsError(try FileName(decoding: segment), String(segment)) { error in
                XCTAssertEqual(error as? FileName.Problem, problem, String(segment))
            }
        }
    }

    /// A name without `%` is checked in place, one with `%` only once decoded: the verdicts agree
    /// with decoding first and checking the result, whatever the order of the problems.
    func testRawAndEncodedNamesGetTheSameVerdicts() throws {
        XCTAssertEqual(try FileName(decoding: "50%25").value, "50%", "an encoded percent sign is part of the name")
        XCTAssertEqual(try FileName("50%").value, "50%", "a decoded name may hold a percent sign")
        XCTAssertEqual(try FileName(decoding: "%41BC").value, "ABC")
        XCTAssertEqual(try FileName(decoding: Substring(String(repeating: "%41", count: 255))).value,
                       String(repeating: "A", count: 255), "765 bytes encoded, 255 decoded")
        let cases: [(Substring, FileName.Problem)] = [
            ("a/b", .separator), ("a\\b", .separator), ("a\u{7f}", .control), ("a\tb", .control), (".a/b", .hidden),
            ("a/b%zz", .badEncoding), ("a\u{1}%", .badEncoding), (".%41", .hidden), ("%2Ea", .hidden),
            (Substring(String(repeating: "%41", count: 256)), .tooLong), (Substring(String(repeating: "/", count: 256)), .tooLong),
        ]
        for (segment, problem) in cases {
            XCTAssertThrowsError(try FileName(decoding: segment), segment.debugDescription) { error in
                XCTAssertEqual(error as? FileName.Problem, problem, segment.debugDescription)
            }
            if let decoded = PercentDecoding.decode(segment) {
                XCTAssertThrowsError(try FileName(decoded), decoded.debugDescription) { error in
                    XCTAssertEqual(error as? FileName.Problem, problem, decoded.debugDescription)
                }
            }
        }
    }

    func testPercentDecodingIsStrict() {
        XCTAssertEqual(PercentDecoding.decode("%41%42c"), "ABc")
        XCTAssertEqual(PercentDecoding.decode("%e2%82%ac"), "€")
        XCTAssertNil(PercentDecoding.decode("%ff"), "not UTF-8")
        XCTAssertNil(PercentDecoding.decode("abc%"))
    }

    func testContentTypes() {
        XCTAssertEqual(ContentType.forFile(named: "index.HTML"), "text/html; charset=utf-8")
        XCTAssertEqual(ContentType.forFile(named: "photo.jpeg"), "image/jpeg")
        XCTAssertEqual(ContentType.forFile(named: "archive.tar.gz"), "application/gzip")
        XCTAssertEqual(ContentType.forFile(named: "README"), "application/octet-stream")
        XCTAssertEqual(ContentType.forFile(named: "noext."), "application/octet-stream")
    }
}
