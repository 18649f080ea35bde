/// Percent-decoding of a path segment or a query component (RFC 3986 §2.1), strictly: a `%` not
/// followed by two hex digits, or bytes that are not UTF-8 once decoded, make the text invalid
/// rather than being passed through, so `%2e%2e` and friends cannot slip past a check done on the
/// raw text. In HTTPServer, not WebApp: the query parameters of every request decode with it too.
///
/// `@inlinable`: the built-in hello and file routes (WebApp) call `decode` per request, and it was
/// theirs to inline before it moved down here.
public enum PercentDecoding {
    @inlinable
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

    /// A query's name or value (`application/x-www-form-urlencoded`), where `+` stands for a
    /// space (a plus is sent as `%2B`); in a path, `+` is a plus. Kept apart from `decode`, which
    /// the built-in hello route calls per request, so that path stays as it was.
    public static func decode(formComponent text: Substring) -> String? {
        guard text.utf8.contains(UInt8(ascii: "+")) else { return decode(text) }
        let spaced = String(decoding: text.utf8.map { $0 == UInt8(ascii: "+") ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
        return decode(spaced[...])
    }

    @usableFromInline
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
