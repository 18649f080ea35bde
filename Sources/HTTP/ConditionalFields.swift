/// Where the fields that make a request conditional or partial (RFC 9110 §13.1, §14.2) lie among
/// its header fields: the index of each one's first occurrence, or nil.
///
/// Found in one pass over the fields, by name length first: a file server asks about all four on
/// every request, and most requests carry none of them. Four `first(name:)` lookups, each a walk
/// of its own, cost the 13 KB file route ~550 instructions a request (callgrind). Indices, not
/// strings: a value of plain integers costs nothing to copy or drop, and a value is made into a
/// `String` (`HTTPHeaders.value(at:)`) only when it is there.
public struct ConditionalFields: Sendable, Equatable {
    public let ifNoneMatch: Int?
    public let ifModifiedSince: Int?
    public let ifRange: Int?
    public let range: Int?

    /// The four fields of `headers`, names in any letter case, the first of each name winning.
    public init(_ headers: HTTPHeaders) {
        var ifNoneMatch = -1, ifModifiedSince = -1, ifRange = -1, range = -1
        headers.storage.withUnsafeBytes { raw in
            for index in headers.fields.indices {
                let name = headers.fields[index].name
                switch name.count {
                case 13 where ifNoneMatch < 0 && raw.equalsIgnoringCase(name, "if-none-match"): ifNoneMatch = index
                case 17 where ifModifiedSince < 0 && raw.equalsIgnoringCase(name, "if-modified-since"): ifModifiedSince = index
                case 8 where ifRange < 0 && raw.equalsIgnoringCase(name, "if-range"): ifRange = index
                case 5 where range < 0 && raw.equalsIgnoringCase(name, "range"): range = index
                default: continue
                }
            }
        }
        func found(_ index: Int) -> Int? { index < 0 ? nil : index }
        self.ifNoneMatch = found(ifNoneMatch)
        self.ifModifiedSince = found(ifModifiedSince)
        self.ifRange = found(ifRange)
        self.range = found(range)
    }
}

extension HTTPHeaders {
    /// The value of the field at `index` (from `ConditionalFields`, `firstIndex(name:)`), or nil
    /// for no index.
    public func value(at index: Int?) -> String? {
        index.map { string(fields[$0].value) }
    }
}
