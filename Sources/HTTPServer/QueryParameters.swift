import EventLoop
/// A request's query, parsed: `?q=swift+server&tag=a&tag=b` gives `["q"]` = `swift server` and
/// `all("tag")` = `["a", "b"]`.
///
/// Form encoding (`application/x-www-form-urlencoded`): pairs split at `&` (and `;` is not a
/// separator), names from values at the first `=` (none: an empty value), `+` for a space, then
/// strict percent-decoding. A pair whose name or value is not valid percent-encoded UTF-8 is left
/// out and counted in `malformed`, never passed on half-decoded: a handler that cares refuses
/// the request with 400.
public struct QueryParameters: Sendable, Sequence {
    /// Every pair, in the order sent.
    public let pairs: [(name: String, value: String)]
    /// Pairs left out because they did not decode.
    public let malformed: Int

    public init(parsing query: Substring?) {
        var pairs: [(name: String, value: String)] = []
        var malformed = 0
        for pair in (query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let equals = pair.firstIndex(of: "=") {
                name = pair[..<equals]
                value = pair[pair.index(after: equals)...]
            } else {
                name = pair
                value = ""
            }
            guard let decodedName = PercentDecoding.decode(formComponent: name),
                  let decodedValue = PercentDecoding.decode(formComponent: value) else {
                malformed += 1
                continue
            }
            pairs.append((decodedName, decodedValue))
        }
        self.pairs = pairs
        self.malformed = malformed
    }

    /// The first value of `name` (exact, case-sensitive); nil when it is not there.
    public subscript(_ name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// Every value of `name`, in order: `?tag=a&tag=b`.
    public func all(_ name: String) -> [String] {
        pairs.compactMap { $0.name == name ? $0.value : nil }
    }

    public var isEmpty: Bool { pairs.isEmpty }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { pairs.makeIterator() }
}

extension Request {
    /// The query, parsed and decoded. Worked out on each use (a request that never asks pays
    /// nothing), so a handler reading several parameters keeps it in a `let`.
    public var queryParameters: QueryParameters { QueryParameters(parsing: query) }
}
