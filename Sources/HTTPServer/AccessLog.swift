import Logging
import Posix

/// The access log (`--access-log PATH|-`): one line per request in the combined format, plus the
/// time taken and the time it queued before that (from a trusted proxy's `X-Request-Start`, else
/// `-`), as nginx and Apache write such fields, so existing log tooling reads it:
///
///     203.0.113.7 - - [23/Nov/2026:10:15:42 +0000] "GET /files/a HTTP/1.1" 200 1024 "-" "curl/8.0" 0.002 0.001
///
/// Each line is one `write(2)` to a file opened `O_APPEND`, so the lines of all workers interleave
/// whole. `reopen()` (USR1) opens the path again for logrotate, through `LogFile` like the log.
public final class AccessLog: @unchecked Sendable {
    let path: String
    /// Touched on the owning worker's loop only.
    private var fd: FileDescriptor

    public struct OpenError: Error, CustomStringConvertible {
        public let description: String
    }

    /// `-` is standard output.
    public init(path: String) throws(OpenError) {
        self.path = path
        fd = .standardOutput
        guard path != "-" else { return }
        do {
            fd = try LogFile.open(path)
        } catch {
            throw OpenError(description: "cannot open access log \(path): \(error)")
        }
    }

    /// Opens the path again and switches to it. When that fails, lines keep going to the old file
    /// and the error is the caller's to log.
    public func reopen() throws(SystemError) {
        guard path != "-" else { return }
        let fresh = try LogFile.open(path)
        let old = fd
        fd = fresh
        if old.rawValue > 2 { old.close() }
    }

    public func record(client: String, method: String, target: String, version: String, status: Int, bytes: Int,
                       referer: String?, userAgent: String?, seconds: Double, queueSeconds: Double? = nil) {
        var line = "\(client) - - [\(Self.timestamp())] \"\(Self.clean(method)) \(Self.clean(target)) \(version)\" \(status) \(bytes) "
            + "\"\(Self.clean(referer ?? "-"))\" \"\(Self.clean(userAgent ?? "-"))\" \(Self.format(seconds)) \(queueSeconds.map(Self.format) ?? "-")\n"
        // One write (see above); a line the disk refuses is lost, never the request.
        _ = line.withUTF8 { fd.writeSome(UnsafeRawBufferPointer($0)) }
    }

    /// Quotes and backslashes escaped, control characters dropped: a client cannot forge a line.
    static func clean(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { result += "\\" + String(scalar) }
            else if scalar.value >= 0x20 && scalar.value != 0x7f { result.unicodeScalars.append(scalar) }
        }
        return result
    }

    static func timestamp() -> String {
        let now = CalendarTime(secondsSinceEpoch: WallClock.seconds)
        let two = HTTPDate.two
        return "\(two(now.day))/\(HTTPDate.months[now.month - 1])/\(now.year):"
            + "\(two(now.hour)):\(two(now.minute)):\(two(now.second)) +0000"
    }

    static func format(_ seconds: Double) -> String {
        let millis = Int((seconds * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
