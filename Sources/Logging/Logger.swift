import Posix

/// A value in a log line: numbers stay numbers in JSON.
public enum LogValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, CustomStringConvertible {
    case string(String)
    case integer(Int64)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(_ value: some BinaryInteger) { self = .integer(Int64(clamping: value)) }
    public init(_ value: some CustomStringConvertible) { self = .string(value.description) }

    public var description: String {
        switch self {
        case let .string(text): text
        case let .integer(number): String(number)
        }
    }
}

/// One line per event: `ts=… level=… msg="…" key=value`, or the same as a JSON object.
///
/// Each line is written with a single `write(2)` on standard error, so lines from the master and
/// its workers never interleave mid-line. No locks: the master is single-threaded and a worker logs
/// from its loop thread only.
public struct Logger: Sendable {
    public enum Level: String, Sendable { case debug, info, warn, error }
    public enum Format: Sendable { case logfmt, json }

    public var format: Format
    /// Fields every line carries, such as `worker=1234` in a worker.
    public var context: [(String, LogValue)]
    public var output: FileDescriptor

    public init(format: Format = .logfmt, output: FileDescriptor = .standardError, context: [(String, LogValue)] = []) {
        self.format = format
        self.output = output
        self.context = context
    }

    public func info(_ message: String, _ fields: (String, LogValue)...) { log(.info, message, fields) }
    public func warn(_ message: String, _ fields: (String, LogValue)...) { log(.warn, message, fields) }
    public func error(_ message: String, _ fields: (String, LogValue)...) { log(.error, message, fields) }

    public func log(_ level: Level, _ message: String, _ fields: [(String, LogValue)]) {
        let line = render(level, message, fields, timestamp: WallClock.timestamp())
        // A log line that cannot be written (a full disk, a closed stderr) must not take the server down.
        try? output.writeAll(line)
    }

    public func render(_ level: Level, _ message: String, _ fields: [(String, LogValue)], timestamp: String) -> String {
        let all = [("ts", LogValue.string(timestamp)), ("level", .string(level.rawValue)), ("msg", .string(message))] + context + fields
        switch format {
        case .logfmt:
            return all.map { "\($0.0)=\(Self.logfmtValue($0.1))" }.joined(separator: " ") + "\n"
        case .json:
            return "{" + all.map { "\(Self.jsonString($0.0)):\(Self.jsonValue($0.1))" }.joined(separator: ",") + "}\n"
        }
    }

    /// Quotes a value when it has a space, `=`, a quote or a control character, or is empty.
    static func logfmtValue(_ value: LogValue) -> String {
        guard case let .string(text) = value else { return value.description }
        let needsQuotes = text.isEmpty || text.unicodeScalars.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7f }
        guard needsQuotes else { return text }
        return "\"" + escaped(text) + "\""
    }

    static func jsonValue(_ value: LogValue) -> String {
        switch value {
        case let .integer(number): String(number)
        case let .string(text): jsonString(text)
        }
    }

    public static func jsonString(_ text: String) -> String { "\"" + escaped(text) + "\"" }

    private static func escaped(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }
}
