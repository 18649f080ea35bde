import Glibc

/// A moment in UTC broken into calendar fields (`gmtime_r`, `timegm`): HTTP dates and log
/// timestamps are formatted from it by hand, with no locale and no time zone file.
public struct CalendarTime: Equatable, Sendable {
    public var year: Int
    /// 1 (January) to 12.
    public var month: Int
    /// 1 to 31.
    public var day: Int
    public var hour: Int
    public var minute: Int
    /// 0 to 60 (a leap second).
    public var second: Int
    /// 0 (Sunday) to 6.
    public var weekday: Int

    /// The UTC calendar time of `seconds` since the epoch (`gmtime_r`).
    public init(secondsSinceEpoch seconds: Int) {
        var time = time_t(seconds)
        var parts = tm()
        // Fails only for a year past Int32 (EOVERFLOW); the fields then stay those of a zero `tm`.
        _ = gmtime_r(&time, &parts)
        year = Int(parts.tm_year) + 1900
        month = Int(parts.tm_mon) + 1
        day = Int(parts.tm_mday)
        hour = Int(parts.tm_hour)
        minute = Int(parts.tm_min)
        second = Int(parts.tm_sec)
        weekday = Int(parts.tm_wday)
    }

    /// Seconds since the epoch of a UTC date and time (`timegm`), or nil when the date does not
    /// exist: `timegm` normalises 31 February to 3 March, and a date that moved was not a real one.
    public static func secondsSinceEpoch(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int? {
        guard let tmYear = Int32(exactly: year - 1900), let tmMonth = Int32(exactly: month - 1), let tmDay = Int32(exactly: day),
              let tmHour = Int32(exactly: hour), let tmMinute = Int32(exactly: minute), let tmSecond = Int32(exactly: second)
        else { return nil }
        var parts = tm()
        parts.tm_year = tmYear
        parts.tm_mon = tmMonth
        parts.tm_mday = tmDay
        parts.tm_hour = tmHour
        parts.tm_min = tmMinute
        parts.tm_sec = tmSecond
        let seconds = timegm(&parts)
        guard parts.tm_mday == tmDay, parts.tm_mon == tmMonth else { return nil }
        return Int(seconds)
    }
}

extension WallClock {
    /// Whole seconds since the epoch (`time(2)`, answered by the vDSO without entering the kernel):
    /// cheap enough to read per response, for the `Date` header's once-a-second cache.
    @inlinable
    public static var seconds: Int { Int(time(nil)) }

    /// Seconds since the epoch with nanosecond precision (`clock_gettime(CLOCK_REALTIME)`).
    public static var preciseSeconds: Double {
        var now = timespec()
        _ = clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
