import Posix
import HTTPServer
/// Validators of a file's current representation, and the conditional-request rules that use them
/// (RFC 9110 §8.8 and §13).
public struct Validators: Equatable, Sendable {
    /// A strong entity tag from size and modification time: it changes when either does, without
    /// reading the file. `"<size hex>-<mtime ns hex>"`.
    public let entityTag: String
    /// Modification time, seconds since the epoch.
    public let modified: Int

    public init(size: Int, modifiedSeconds: Int, modifiedNanoseconds: Int) {
        entityTag = "\"\(String(size, radix: 16))-\(String(modifiedSeconds, radix: 16))\(Self.hex8(modifiedNanoseconds))\""
        modified = modifiedSeconds
    }

    /// `If-None-Match` (weak comparison, `*` matches) and, only when it is absent,
    /// `If-Modified-Since`: true when the client's copy is current and 304 is the answer.
    public func notModified(ifNoneMatch: String?, ifModifiedSince: String?) -> Bool {
        if let ifNoneMatch {
            let candidates = ifNoneMatch.split(separator: ",").map { $0.trimmingBlanks }
            return candidates.contains { $0 == "*" || Self.weakEqual($0, entityTag) }
        }
        if let ifModifiedSince, let since = HTTPDate.parse(ifModifiedSince.trimmingBlanks) {
            return modified <= since
        }
        return false
    }

    /// `If-Range`: the range applies only if the validator still matches (strong comparison for an
    /// entity tag, exact date for a date); otherwise the whole file is sent.
    public func rangeApplies(ifRange: String?) -> Bool {
        guard let ifRange = ifRange?.trimmingBlanks else { return true }
        if ifRange.hasPrefix("\"") || ifRange.hasPrefix("W/") { return ifRange == entityTag }
        guard let date = HTTPDate.parse(ifRange) else { return false }
        return date == modified
    }

    /// Lowercase hex, zero-padded to 8 digits.
    static func hex8(_ value: Int) -> String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    }

    static func weakEqual(_ left: String, _ right: String) -> Bool {
        func opaque(_ tag: String) -> String { tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag }
        return opaque(left) == opaque(right)
    }
}

