/// The byte classes of the HTTP grammar (RFC 9110 §5.6, RFC 9112), as switches over ranges.
///
/// Switches rather than a 256-entry table: a global table costs a lazy-initialisation check on every
/// access in the parser's innermost loops, while a switch compiles to a few compares, allocates
/// nothing, and reads like the ABNF it implements.
extension UInt8 {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let asterisk: UInt8 = 0x2A
    static let comma: UInt8 = 0x2C
    static let slash: UInt8 = 0x2F
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B

    /// `tchar` (RFC 9110 §5.6.2): a byte of a token, such as a method, a field name or a coding:
    /// DIGIT, ALPHA and ``!#$%&'*+-.^_`|~``. A bit test in two 64-bit masks (a branch per byte in
    /// the hottest loop of the parser costs more than the test itself).
    var isTokenChar: Bool {
        // Bits 33, 35-39, 42, 43, 45, 46, 48-57: ! # $ % & ' * + - . 0-9
        let low: UInt64 = 0x03FF_6CFA_0000_0000
        // Bits (minus 64) 1-26, 30-32, 33-58, 60, 62: A-Z ^ _ ` a-z | ~
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE
        let mask = self < 64 ? low : high
        return self < 128 && (mask >> UInt64(self & 63)) & 1 == 1
    }

    /// `OWS` / `BWS` whitespace: SP or HTAB.
    var isWhitespace: Bool { self == .space || self == .tab }

    /// A byte allowed in a field value (RFC 9110 §5.5): HTAB, SP, VCHAR, obs-text. Every other control
    /// byte, NUL and bare CR or LF included, is refused rather than replaced, so what we pass on is
    /// exactly what a proxy in front of us saw.
    var isFieldValueChar: Bool { self == .tab || (self >= 0x20 && self != 0x7F) }

    /// A byte allowed in a request-target: visible ASCII only. SP ends the target, CTLs and DEL are
    /// never valid, and bytes above 0x7E are not URI characters (RFC 3986): a client must
    /// percent-encode them, so refusing them keeps `target` a lossless ASCII string.
    var isTargetChar: Bool { self >= 0x21 && self <= 0x7E }

    /// A byte of a `Host` value: reg-name, IP-literal or IPv4 address characters and the port colon
    /// (RFC 3986 §3.2.2). Anything else (`/`, `@`, SP, quotes) would let a client steer URLs we build
    /// from the host.
    /// DIGIT, ALPHA and `! $ % & ' ( ) * + , - . : ; = [ ] _ ~`, tested as `isTokenChar` is (a
    /// switch of ranges cost ~15 instructions a byte of every request's Host).
    var isHostChar: Bool {
        // Bits 33, 36-46, 48-59, 61: ! $ % & ' ( ) * + , - . 0-9 : ; =
        let low: UInt64 = 0x2FFF_7FF2_0000_0000
        // Bits (minus 64) 1-26, 27, 29, 31, 33-58, 62: A-Z [ ] _ a-z ~
        let high: UInt64 = 0x47FF_FFFE_AFFF_FFFE
        let mask = self < 64 ? low : high
        return self < 128 && (mask >> UInt64(self & 63)) & 1 == 1
    }

    var isDigit: Bool { self >= 0x30 && self <= 0x39 }

    var isLetter: Bool { (self >= 0x41 && self <= 0x5A) || (self >= 0x61 && self <= 0x7A) }

    /// The value of a hexadecimal digit, either case; nil for any other byte.
    var hexValue: Int? {
        switch self {
        case 0x30...0x39: Int(self &- 0x30)
        case 0x41...0x46: Int(self &- 0x41 &+ 10)
        case 0x61...0x66: Int(self &- 0x61 &+ 10)
        default: nil
        }
    }

    /// ASCII lowercase; every other byte unchanged.
    var asciiLowercased: UInt8 { self >= 0x41 && self <= 0x5A ? self | 0x20 : self }
}

extension UnsafeRawBufferPointer {
    /// Whether `self[range]` is exactly `literal` (case-sensitive, as methods and versions are).
    /// Inlined, so that the literal's length and bytes are constants.
    @inline(__always)
    func spells(_ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        let expected = literal.utf8Start
        for offset in 0..<range.count where self[range.lowerBound + offset] != expected[offset] { return false }
        return true
    }

    /// Whether `self[range]` is `literal` (written in lowercase) in any letter case, as field names,
    /// codings and connection options are compared.
    /// Eight bytes at a time (a byte loop cost ~10 instructions a byte, "connection" and
    /// "keep-alive" on every keep-alive request): see `foldsTo`. Inlined, so that the literal's
    /// length and words are constants.
    @inline(__always)
    func equalsIgnoringCase(_ range: Range<Int>, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard range.count == count else { return false }
        let expected = UnsafeRawPointer(literal.utf8Start)
        var offset = 0
        while count - offset >= 8 {
            let word = loadUnaligned(fromByteOffset: range.lowerBound + offset, as: UInt64.self)
            guard Self.word(word, foldsTo: expected.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) else { return false }
            offset += 8
        }
        while offset < count {
            guard self[range.lowerBound + offset].asciiLowercased == expected.load(fromByteOffset: offset, as: UInt8.self) else { return false }
            offset += 1
        }
        return true
    }

    /// Whether `word` is `lowercase` (ASCII, 8 bytes of a literal) in any letter case: the case bit
    /// (0x20) is set in `word` only where `lowercase` has a letter, so a letter matches either
    /// case and any other byte only itself (exactly, whatever the byte: no control byte folds
    /// onto `-` or a digit).
    @inline(__always)
    static func word(_ word: UInt64, foldsTo lowercase: UInt64) -> Bool {
        let highs: UInt64 = 0x8080_8080_8080_8080
        let ones: UInt64 = 0x0101_0101_0101_0101
        // Per byte b < 0x80: b + 0x1F has its high bit from b >= 0x61 ("a"), b + 0x05 from b >= 0x7B
        // (past "z"); no carry crosses a byte.
        let letters = (lowercase &+ ones &* 0x1F) & ~(lowercase &+ ones &* 0x05) & highs
        return word | (letters >> 2) == lowercase
    }

    /// Whether every byte of `self[range]` may be in a field value. Eight bytes at a time: a word
    /// with no control byte and no DEL (the usual case) passes with a few arithmetic operations;
    /// a word that may hold one (an HTAB, which is allowed, or a refused byte) is checked byte by
    /// byte. The byte loop alone cost ~10 instructions a byte, the parser's largest single cost.
    func allFieldValueChars(_ range: Range<Int>) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        var index = range.lowerBound
        while range.upperBound - index >= 8 {
            let word = loadUnaligned(fromByteOffset: index, as: UInt64.self)
            // A high bit for each byte below 0x20 (and no false alarm when none is: a borrow only
            // starts at such a byte), and for each byte equal to 0x7F (a zero after the XOR).
            let control = (word &- ones &* 0x20) & ~word & highs
            let del = word ^ (ones &* 0x7F)
            let deletes = (del &- ones) & ~del & highs
            if control | deletes != 0 {
                for offset in index..<index + 8 where !self[offset].isFieldValueChar { return false }
            }
            index += 8
        }
        while index < range.upperBound {
            if !self[index].isFieldValueChar { return false }
            index += 1
        }
        return true
    }

    /// `range` without leading and trailing SP/HTAB.
    func trimmingWhitespace(_ range: Range<Int>) -> Range<Int> {
        var start = range.lowerBound
        var end = range.upperBound
        while start < end && self[start].isWhitespace { start += 1 }
        while end > start && self[end - 1].isWhitespace { end -= 1 }
        return start..<end
    }

    /// Calls `body` with each element of the comma-separated list in `self[range]`, OWS trimmed.
    /// Empty elements are skipped, as RFC 9110 §5.6.1 asks of a recipient.
    func forEachListElement(_ range: Range<Int>, _ body: (Range<Int>) -> Void) {
        var start = range.lowerBound
        while start <= range.upperBound {
            var end = start
            while end < range.upperBound && self[end] != .comma { end += 1 }
            let element = trimmingWhitespace(start..<end)
            if !element.isEmpty { body(element) }
            start = end + 1
        }
    }
}
