/// Percent-decoding of a path segment (RFC 3986 §2.1), strictly: a `%` not followed by two hex
/// digits, or bytes that are not UTF-8 once decoded, make the segment invalid rather than being
/// passed through, so `%2e%2e` and friends cannot slip past a check done on the raw text.
public enum PercentDecoding {
    public static func decode(_ segment: Substring) -> String? {
        // Most segments hold no escape: they are already valid UTF-8 (a Substring is), so copy.
        // Looked for in the bytes in place (the UTF8View's generic `contains` cost ~40 instructions a byte).
        var scanned = segment
        guard scanned.withUTF8({ $0.contains(UInt8(ascii: "%")) }) else { return String(segment) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(segment.utf8.count)
        var iterator = segment.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

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
