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
        guard let decoded = PercentDecoding.decode(segment) else { throw .badEncoding }
        try self.init(decoded)
    }

    public init(_ name: String) throws(Problem) {
        // One pass over the bytes: in UTF-8, bytes below 0x80 only ever stand for themselves, so
        // a byte check is a character check for `.`, `/`, `\` and the control characters.
        let utf8 = name.utf8
        guard let first = utf8.first else { throw .empty }
        guard utf8.count <= 255 else { throw .tooLong }
        guard first != UInt8(ascii: ".") else { throw .hidden }
        for byte in utf8 {
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "\\") { throw .separator }
            if byte < 0x20 || byte == 0x7f { throw .control }
        }
        value = name
    }

    public var description: String { value }
}
