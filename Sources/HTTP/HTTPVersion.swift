/// The protocol versions this parser serves. A higher minor version of HTTP/1 (`HTTP/1.2`…) is
/// served as HTTP/1.1, the highest minor version we implement (RFC 9112 §2.3); any other
/// well-formed `HTTP/x.y` is answered with 505; anything not of that shape is not an HTTP/1
/// request line at all (400).
public enum HTTPVersion: Sendable, Hashable, CustomStringConvertible {
    case http10
    case http11

    public var description: String {
        switch self {
        case .http10: "HTTP/1.0"
        case .http11: "HTTP/1.1"
        }
    }

    /// Parses `HTTP-version = "HTTP/" DIGIT "." DIGIT` (RFC 9112 §2.3), case-sensitive.
    static func parse(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) -> Result<HTTPVersion, HTTPParseError> {
        let start = range.lowerBound
        guard range.count == 8, raw.spells(start..<(start + 5), "HTTP/"),
              raw[start + 5].isDigit, raw[start + 6] == 0x2E, raw[start + 7].isDigit
        else { return .failure(.invalidVersion) }
        switch (raw[start + 5], raw[start + 7]) {
        case (0x31, 0x30): return .success(.http10)
        case (0x31, _): return .success(.http11)
        default: return .failure(.unsupportedVersion)
        }
    }
}
