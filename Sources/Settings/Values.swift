import Posix

/// A bad value for an option: says which option, what was given, and what is expected.
public struct ValueError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Strict parsers for option values. They accept exactly the documented forms; anything else is an
/// error, never a silent default.
public enum Values {
    /// A whole number in `range`, decimal digits only (no sign, no `0x`, no spaces).
    public static func integer(_ text: String, in range: ClosedRange<Int>) throws(ValueError) -> Int {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = Int(text) else {
            throw ValueError("expected a whole number, got '\(text)'")
        }
        guard range.contains(value) else {
            throw ValueError("must be from \(range.lowerBound) to \(range.upperBound), got \(value)")
        }
        return value
    }

    /// A duration: `30` or `30s` (seconds), `1.5s`, `500ms`, `2m`. Bounded by `maximum`.
    public static func duration(_ text: String, allowZero: Bool = false, maximum: Duration = .seconds(86_400)) throws(ValueError) -> Duration {
        let bad = ValueError("expected a duration such as 30, 30s, 1.5s, 500ms or 2m, got '\(text)'")
        var number = Substring(text)
        var unitNanos: Int64 = 1_000_000_000
        if number.hasSuffix("ms") { number = number.dropLast(2); unitNanos = 1_000_000 }
        else if number.hasSuffix("s") { number = number.dropLast() }
        else if number.hasSuffix("m") { number = number.dropLast(); unitNanos = 60_000_000_000 }
        let parts = number.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        func digits(_ part: Substring) -> Bool { !part.isEmpty && part.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }
        guard let wholePart = parts.first, digits(wholePart), wholePart.count <= 9 else { throw bad }
        guard let whole = Int64(wholePart) else { throw bad }
        let tooLong = ValueError("must be at most \(maximum.secondsText)s, got '\(text)'")
        let (wholeNanos, overflow) = whole.multipliedReportingOverflow(by: unitNanos)
        guard !overflow else { throw tooLong }
        var nanos = wholeNanos
        if parts.count == 2 {
            let fraction = parts[1]
            guard digits(fraction), fraction.count <= 9 else { throw bad }
            guard let fractionValue = Int64(fraction) else { throw bad }
            var scale: Int64 = 1
            for _ in 0..<fraction.count { scale *= 10 }
            // Scale first: fraction × unit would overflow for minutes with nine decimals.
            let (fractionNanos, fractionOverflow) = (unitNanos / scale).multipliedReportingOverflow(by: fractionValue)
            guard !fractionOverflow else { throw tooLong }
            let (sum, sumOverflow) = nanos.addingReportingOverflow(fractionNanos)
            guard !sumOverflow else { throw tooLong }
            nanos = sum
        }
        let duration = Duration.nanoseconds(nanos)
        if duration == .zero && !allowZero { throw ValueError("must be more than zero, got '\(text)'") }
        if duration > maximum { throw tooLong }
        return duration
    }

    /// A byte size: `1048576`, `512K`, `10M`, `1G` (powers of 1024), at most 1 TiB.
    public static func size(_ text: String) throws(ValueError) -> Int {
        var digits = Substring(text)
        var multiplier = 1
        switch digits.last {
        case "K", "k": multiplier = 1 << 10; digits = digits.dropLast()
        case "M", "m": multiplier = 1 << 20; digits = digits.dropLast()
        case "G", "g": multiplier = 1 << 30; digits = digits.dropLast()
        default: break
        }
        guard !digits.isEmpty, digits.count <= 13, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let number = Int(digits) else {
            throw ValueError("expected a size such as 1048576, 512K, 10M or 1G, got '\(text)'")
        }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow, bytes <= 1 << 40 else { throw ValueError("must be at most 1T, got '\(text)'") }
        guard bytes > 0 else { throw ValueError("must be more than zero, got '\(text)'") }
        return bytes
    }

    /// One of a fixed set of words.
    public static func choice(_ text: String, from choices: [String]) throws(ValueError) -> String {
        guard choices.contains(text) else {
            throw ValueError("expected one of \(choices.joined(separator: ", ")), got '\(text)'")
        }
        return text
    }

    public static func address(_ text: String) throws(ValueError) -> SocketAddress {
        do {
            return try SocketAddress(parsing: text)
        } catch {
            throw ValueError(error.description)
        }
    }

    /// Comma-separated IP addresses and CIDR ranges (`10.0.0.0/8,::1`), or `*` for any.
    public static func addressRanges(_ text: String) throws(ValueError) -> [AddressRange] {
        var ranges: [AddressRange] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            do throws(AddressRange.ParseError) {
                ranges.append(try AddressRange(parsing: item.trimmingBlanks))
            } catch {
                throw ValueError(error.description)
            }
        }
        return ranges
    }

    public static func path(_ text: String) throws(ValueError) -> String {
        guard !text.isEmpty, !text.utf8.contains(0) else { throw ValueError("expected a file path, got '\(text)'") }
        return text
    }
}
