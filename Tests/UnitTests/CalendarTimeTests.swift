import Posix
import XCTest

/// UTC calendar fields both ways, as HTTP dates and log timestamps need them.
final class CalendarTimeTests: XCTestCase {
    /// RFC 9110's example date: Sun, 06 Nov 1994 08:49:37 GMT.
    func testFieldsOfAKnownMoment() {
        let time = CalendarTime(secondsSinceEpoch: 784_111_777)
        XCTAssertEqual([time.year, time.month, time.day, time.hour, time.minute, time.second], [1994, 11, 6, 8, 49, 37])
        XCTAssertEqual(time.weekday, 0, "a Sunday")
        XCTAssertEqual(CalendarTime(secondsSinceEpoch: 0).month, 1, "months count from 1")
    }

    func testSecondsOfADateRoundTrip() {
        XCTAssertEqual(CalendarTime.secondsSinceEpoch(year: 1994, month: 11, day: 6, hour: 8, minute: 49, second: 37), 784_111_777)
        for seconds in [0, 951_782_400 /* 29 Feb 2000 */, 1_700_000_000, 4_102_444_799] {
            let time = CalendarTime(secondsSinceEpoch: seconds)
            XCTAssertEqual(CalendarTime.secondsSinceEpoch(year: time.year, month: time.month, day: time.day,
                                                          hour: time.hour, minute: time.minute, second: time.second), seconds)
        }
    }

    func testDatesThatDoNotExistAreRefused() {
        XCTAssertNil(CalendarTime.secondsSinceEpoch(year: 2026, month: 2, day: 31, hour: 0, minute: 0, second: 0))
        XCTAssertNil(CalendarTime.secondsSinceEpoch(year: 2025, month: 2, day: 29, hour: 0, minute: 0, second: 0), "not a leap year")
        XCTAssertNil(CalendarTime.secondsSinceEpoch(year: 2026, month: 13, day: 1, hour: 0, minute: 0, second: 0))
        XCTAssertNotNil(CalendarTime.secondsSinceEpoch(year: 2024, month: 2, day: 29, hour: 0, minute: 0, second: 0))
    }

    func testWallClockSecondsAgree() {
        let precise = WallClock.preciseSeconds
        let whole = WallClock.seconds
        XCTAssertLessThan(abs(Double(whole) - precise), 2)
        XCTAssertGreaterThan(whole, 1_700_000_000, "a date after 2023")
    }
}
