import Glibc
import HTTPServer

/// A file name a client may read or write in the served folder: one path segment, decoded.
///
/// Refused: empty, `.`/`..` and anything else starting with a dot (hidden files and the upload
/// temp files), `/` or `\` (after decoding, so `%2F` is refused too), NUL and other control
/// characters, more than 255 bytes. Symlinks that leave the folder are the file server's check,
/// made on the resolved path.
public struct FileName: Equatable, Sendable, CustomStringConvertible {
    public let value: String

    public enum Problem: Error, Equatable {
        case badEncoding, empty, hidden, separator, control, tooLong
    }

    public init(decoding segment: Substring) throws(Problem) {
        // Most names hold no escape: then the raw bytes are the name's, checked in place in the
        // same pass that looks for `%`, and the name is a copy of the segment (decoding and then
        // checking the decoded string cost ~1,000 instructions a request, callgrind).
        var raw = segment
        switch raw.withUTF8({ Self.check($0) }) {
        case .valid: self.init(checked: String(segment))
        case .escaped:
            guard let decoded = PercentDecoding.decode(segment) else { throw .badEncoding }
            try self.init(decoded)
        case let .refused(problem): throw problem
        }
    }

    public init(_ name: String) throws(Problem) {
        var bytes = name
        switch bytes.withUTF8({ Self.check($0, escapes: false) }) {
        case .valid, .escaped: self.init(checked: name)
        case let .refused(problem): throw problem
        }
    }

    private init(checked name: String) { value = name }

    /// Whether the raw path segment `segment` decodes to `name`, a valid name, by being it byte
    /// for byte with no `%`: then it is that name, checked already, with nothing to decode.
    static func isSpelled(_ name: String, bySegment segment: Substring) -> Bool {
        var name = name
        var segment = segment
        return name.withUTF8 { name in
            segment.withUTF8 { raw in
                guard raw.count == name.count, let rawBase = raw.baseAddress, let nameBase = name.baseAddress else { return false }
                return memcmp(rawBase, nameBase, raw.count) == 0 && !raw.contains(UInt8(ascii: "%"))
            }
        }
    }

    /// What one pass over a name's bytes finds. With `escapes`, a `%` stops the pass: the bytes
    /// are not the name's until decoded.
    enum Verdict { case valid, escaped, refused(Problem) }

    static func check(_ bytes: UnsafeBufferPointer<UInt8>, escapes: Bool = true) -> Verdict {
        // In UTF-8, bytes below 0x80 only ever stand for themselves, so a byte check is a
        // character check for `.`, `/`, `\` and the control characters.
        var refusal: Problem?
        for byte in bytes {
            if escapes && byte == UInt8(ascii: "%") { return .escaped }
            if refusal == nil {
                if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\") {
                    refusal = .separator
                } else if byte < 0x20 || byte == 0x7f {
                    refusal = .control
                }
            }
        }
        guard let first = bytes.first else { return .refused(.empty) }
        if bytes.count > 255 { return .refused(.tooLong) }
        if first == UInt8(ascii: ".") { return .refused(.hidden) }
        return refusal.map { .refused($0) } ?? .valid
    }

    public var description: String { value }
}
