/// A request method (RFC 9110 §9): the registered ones as cases, so the common ones cost no string,
/// and any other valid token as `other`. Methods are case-sensitive: `get` is `.other("get")`.
public enum HTTPMethod: Sendable, Hashable, CustomStringConvertible {
    case get, head, post, put, delete, connect, options, trace, patch
    case other(String)

    /// The token as sent.
    public var rawValue: String {
        switch self {
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .put: "PUT"
        case .delete: "DELETE"
        case .connect: "CONNECT"
        case .options: "OPTIONS"
        case .trace: "TRACE"
        case .patch: "PATCH"
        case .other(let token): token
        }
    }

    public var description: String { rawValue }

    /// The method spelled by `raw[range]`, already checked to be a token.
    init(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>) {
        switch range.count {
        case 3 where raw.spells(range, "GET"): self = .get
        case 3 where raw.spells(range, "PUT"): self = .put
        case 4 where raw.spells(range, "POST"): self = .post
        case 4 where raw.spells(range, "HEAD"): self = .head
        case 5 where raw.spells(range, "PATCH"): self = .patch
        case 5 where raw.spells(range, "TRACE"): self = .trace
        case 6 where raw.spells(range, "DELETE"): self = .delete
        case 7 where raw.spells(range, "OPTIONS"): self = .options
        case 7 where raw.spells(range, "CONNECT"): self = .connect
        default: self = .other(String(decoding: UnsafeRawBufferPointer(rebasing: raw[range]), as: UTF8.self))
        }
    }
}
