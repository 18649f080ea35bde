import XCTest

@testable import Posix

/// Reading `/proc/PID/smaps_rollup` for `--max-worker-memory`: the text as the kernel writes it,
/// and the text it must not be fooled by.
final class MemoryRollupTests: XCTestCase {
    let sample = """
        55d0c0a00000-7ffd5e9fe000 ---p 00000000 00:00 0                          [rollup]
        Rss:               10752 kB
        Pss:                3307 kB
        Pss_Dirty:          1410 kB
        Shared_Clean:       8968 kB
        Shared_Dirty:       1472 kB
        Private_Clean:         4 kB
        Private_Dirty:       308 kB
        Referenced:        10752 kB
        Anonymous:          1780 kB
        Swap:                  0 kB

        """

    func testUniqueMemoryIsPrivateCleanPlusPrivateDirtyNotRSS() throws {
        let rollup = try XCTUnwrap(MemoryRollup(parsing: sample))
        XCTAssertEqual(rollup.uniqueBytes, (4 + 308) * 1024)
        XCTAssertEqual(rollup.residentBytes, 10752 * 1024)
        XCTAssertEqual(rollup.proportionalBytes, 3307 * 1024)
    }

    func testAMissingPrivateFieldMeansNoFigureRatherThanAGuess() throws {
        let withoutDirty = sample.split(separator: "\n").filter { !$0.hasPrefix("Private_Dirty") }.joined(separator: "\n")
        let rollup = try XCTUnwrap(MemoryRollup(parsing: withoutDirty))
        XCTAssertNil(rollup.uniqueBytes)
        XCTAssertEqual(rollup.residentBytes, 10752 * 1024)
    }

    func testGarbageHasNoFields() {
        XCTAssertNil(MemoryRollup(parsing: ""))
        XCTAssertNil(MemoryRollup(parsing: "\u{0}\u{1}binary\n:::\nno colon here"))
        XCTAssertNil(MemoryRollup(parsing: "Referenced: 12 kB\nSwap: 0 kB\n"), "only fields it does not use")
    }

    func testAValueThatIsNotKilobytesIsMissing() throws {
        let text = "Private_Clean: 12 MB\nPrivate_Dirty: -5 kB\nRss: 99999999999999999999999 kB\nPss: 1 2 kB\n"
        XCTAssertNil(MemoryRollup(parsing: text), "every known field was malformed")
        let overflow = try XCTUnwrap(MemoryRollup(parsing: "Private_Clean: 18014398509481984 kB\nPrivate_Dirty: 1 kB\n"))
        XCTAssertNil(overflow.privateCleanBytes, "2^54 kB does not fit in bytes")
        XCTAssertNil(overflow.uniqueBytes)
    }

    func testThisProcessHasAFigureAndAMissingProcessThrows() throws {
        let own = try XCTUnwrap(try MemoryRollup.read(pid: Process.id))
        XCTAssertGreaterThan(try XCTUnwrap(own.uniqueBytes), 0)
        XCTAssertLessThan(try XCTUnwrap(own.uniqueBytes), try XCTUnwrap(own.residentBytes) + 1)
        XCTAssertThrowsError(try MemoryRollup.read(pid: 0x3fff_fff0)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, .noSuchFile)
        }
    }
}
