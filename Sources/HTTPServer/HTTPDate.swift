import Posix

/// HTTP dates (RFC 9110 §5.6.7): `Sun, 06 Nov 1994 08:49:37 GMT`.
///
/// Formatted by hand from `CalendarTime` (`gmtime_r`: no Foundation, no locale). Parsing accepts the three forms a
/// recipient must accept: IMF-fixdate, the obsolete RFC 850 form and asctime.
public enum HTTPDate {
    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let longDays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate for seconds since the epoch.
    public static func format(_ seconds: Int) -> String {
        let time = CalendarTime(secondsSinceEpoch: seconds)
        return "\(days[time.weekday]), \(two(time.day)) \(months[time.month - 1]) \(time.year) "
            + "\(two(time.hour)):\(two(time.minute)):\(two(time.second)) GMT"
    }

    /// `07`, `23`: the two-digit fields of HTTP and log dates.
    static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// Seconds since the epoch, or nil for anything that is not one of the three HTTP date forms.
    public static func parse(_ text: String) -> Int? {
        let words = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
        if words.count == 6, words[0].count == 4, words[0].hasSuffix(","), days.contains(String(words[0].dropLast())), words[5] == "GMT",
           words[1].count == 2, let day = Int(words[1]), let month = months.firstIndex(of: words[2]),
           words[3].count == 4, let year = Int(words[3]) {
            return compose(year: year, month: month, day: day, time: words[4])
        }
        // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT (two-digit years: 70-99 → 19xx, else 20xx)
        if words.count == 4, words[0].hasSuffix(","), longDays.contains(String(words[0].dropLast())), words[3] == "GMT" {
            let date = words[1].split(separator: "-").map(String.init)
            if date.count == 3, date[0].count == 2, let day = Int(date[0]), let month = months.firstIndex(of: date[1]),
               date[2].count == 2, let short = Int(date[2]) {
                return compose(year: short >= 70 ? 1900 + short : 2000 + short, month: month, day: day, time: words[2])
            }
            return nil
        }
        // asctime: Sun Nov  6 08:49:37 1994 (the day is space-padded)
        let compact = text.split(separator: " ").map(String.init)
        if compact.count == 5, days.contains(compact[0]), let month = months.firstIndex(of: compact[1]),
           (1...2).contains(compact[2].count), let day = Int(compact[2]), compact[4].count == 4, let year = Int(compact[4]) {
            return compose(year: year, month: month, day: day, time: compact[3])
        }
        return nil
    }

    private static func compose(year: Int, month: Int, day: Int, time: String) -> Int? {
        let clock = time.split(separator: ":").map(String.init)
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }),
              let hour = Int(clock[0]), let minute = Int(clock[1]), let second = Int(clock[2]),
              hour < 24, minute < 60, second <= 60, (1...31).contains(day), year >= 1900
        else { return nil }
        return CalendarTime.secondsSinceEpoch(year: year, month: month + 1, day: day, hour: hour, minute: minute, second: second)
    }
}

/// The `Date` header's value, rebuilt at most once a second rather than per response.
public struct DateCache {
    private var second = -1
    private var cached = ""

    public init() {}

    public mutating func value(now seconds: Int = WallClock.seconds) -> String {
        if seconds != second {
            second = seconds
            cached = HTTPDate.format(seconds)
        }
        return cached
    }
}
