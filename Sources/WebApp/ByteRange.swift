import Posix
/// A single byte range from a `Range` header (RFC 9110 §14), resolved against the file size.
public enum ByteRange: Equatable, Sendable {
    /// Serve the whole file with 200 (no Range, a Range we ignore such as several ranges, or a
    /// unit other than bytes).
    case whole
    /// Serve `first...last` with 206.
    case partial(first: Int, last: Int)
    /// No byte of the file is in the range: 416 with `Content-Range: bytes */size`.
    case unsatisfiable

    /// Interprets a `Range` header value for a representation of `size` bytes. A header that does
    /// not parse is ignored (RFC 9110 §14.2: a server may ignore Range), which serves the whole file.
    public init(header: String?, size: Int) {
        guard let header else { self = .whole; return }
        let trimmed = header.trimmingBlanks
        guard trimmed.hasPrefix("bytes=") else { self = .whole; return }
        let specs = trimmed.dropFirst(6).split(separator: ",", omittingEmptySubsequences: false)
        // One range only: several ranges would need multipart/byteranges, which we choose not to
        // produce; answering 200 with the whole file is allowed.
        guard specs.count == 1 else { self = .whole; return }
        let spec = specs[0].trimmingBlanks
        guard let dash = spec.firstIndex(of: "-") else { self = .whole; return }
        let startText = spec[..<dash]
        let endText = spec[spec.index(after: dash)...]
        func number(_ text: Substring) -> Int? {
            guard !text.isEmpty, text.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            return Int(text)
        }
        if startText.isEmpty {
            // Suffix range: the last N bytes.
            guard let suffix = number(endText) else { self = .whole; return }
            guard suffix > 0, size > 0 else { self = .unsatisfiable; return }
            self = .partial(first: max(0, size - suffix), last: size - 1)
            return
        }
        guard let first = number(startText) else { self = .whole; return }
        var last = size - 1
        if !endText.isEmpty {
            guard let end = number(endText) else { self = .whole; return }
            guard end >= first else { self = .whole; return }  // invalid: ignore the header
            last = min(end, size - 1)
        }
        guard first < size else { self = .unsatisfiable; return }
        self = .partial(first: first, last: last)
    }
}
