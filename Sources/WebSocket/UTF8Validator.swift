/// Checks UTF-8 as it arrives, a fragment at a time: a text message is refused (1007) at the first
/// byte that cannot be UTF-8, even when a code point is split across frames (RFC 6455 §8.1).
/// Overlong forms, surrogates and code points above U+10FFFF are refused (RFC 3629 §4).
public struct UTF8Validator: Sendable {
    /// Continuation bytes still owed by the current code point.
    private var needed = 0
    /// The range the next continuation byte must be in (narrower after E0, ED, F0, F4).
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    public init() {}

    /// Whether nothing is left half-way: the bytes so far end on a code point's boundary.
    public var isComplete: Bool { needed == 0 }

    /// Takes the next bytes; false at the first that cannot continue valid UTF-8.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for byte in bytes {
            if needed == 0 {
                if byte < 0x80 { continue }
                switch byte {
                case 0xC2...0xDF: needed = 1
                case 0xE0: needed = 2; lower = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: needed = 2
                case 0xED: needed = 2; upper = 0x9F
                case 0xF0: needed = 3; lower = 0x90
                case 0xF1...0xF3: needed = 3
                case 0xF4: needed = 3; upper = 0x8F
                default: return false
                }
            } else {
                guard byte >= lower && byte <= upper else { return false }
                needed -= 1
                lower = 0x80
                upper = 0xBF
            }
        }
        return true
    }

    /// Whether `bytes` are complete, valid UTF-8 on their own (a close frame's reason).
    public static func isValid(_ bytes: [UInt8]) -> Bool {
        var validator = UTF8Validator()
        return bytes.withUnsafeBytes { validator.feed($0) } && validator.isComplete
    }
}
