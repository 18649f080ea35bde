import Posix
import XCTest

/// `Process.sleep`: the command line's poll between two looks at a condition.
final class ProcessSleepTests: XCTestCase {
    func testSleepWaitsAtLeastTheDuration() {
        let start = Instant.now
        Process.sleep(for: .milliseconds(30))
        XCTAssertGreaterThanOrEqual(Instant.now.since(start), .milliseconds(30))
    }
}
