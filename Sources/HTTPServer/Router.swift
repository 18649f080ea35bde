import Glibc

/// Maps a method and a path to a handler, with `{name}` segments as parameters:
///
///     router.get("/hello/{name}") { request in .text("Hello, \(request.parameters["name"] ?? "")") }
///
/// Matching is on raw (still percent-encoded) segments, so an encoded `/` never splits a segment;
/// handlers decode parameters themselves. A path that matches with another method gives 405 with
/// `Allow`; no match, 404. `HEAD` falls back to the `GET` route (the server drops the body).
public struct Router<Handler: Sendable>: Sendable {
    /// A class, so that walking the routes costs one retain per route, not one per field.
    /// `@unchecked Sendable`: its literal bytes are written once, in `init`, and only read after.
    final class Route: @unchecked Sendable {
        let method: String
        /// The pattern's segments in order: a literal's place in `literals`, or a parameter.
        let parts: [Part]
        /// Every literal segment's bytes, one after the other, in memory of the route's own: the
        /// match compares them with `memcmp`, with no array to retain per segment.
        let literals: UnsafeMutableRawPointer
        /// The `{name}`s in order, shared by every match's `RouteParameters` (a retain, no copy).
        let parameterNames: [String]
        let handler: Handler
        /// What the path's first segment must be for this route to match, checked before walking
        /// the whole path. Most routes differ there, so most are passed over in a few compares.
        let first: FirstSegment

        enum FirstSegment {
            /// The route `/`: the path has no segment.
            case none
            /// A parameter: any segment.
            case any
            /// A literal of this length starting with this byte.
            case literal(count: Int, byte: UInt8)
        }

        struct Part {
            let offset: Int
            /// The literal's length; -1 for a parameter.
            let count: Int
        }

        init(method: String, segments: [Segment], handler: Handler) {
            self.method = method
            var parts: [Part] = []
            var bytes: [UInt8] = []
            var names: [String] = []
            for segment in segments {
                switch segment {
                case let .literal(text):
                    parts.append(Part(offset: bytes.count, count: text.count))
                    bytes += text
                case let .parameter(name):
                    parts.append(Part(offset: bytes.count, count: -1))
                    names.append(name)
                }
            }
            self.parts = parts
            switch segments.first {
            case nil: first = .none
            case .parameter?: first = .any
            case let .literal(text)?: first = .literal(count: text.count, byte: text.first ?? 0)
            }
            let storage = UnsafeMutableRawPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
            bytes.withUnsafeBytes { if let base = $0.baseAddress { storage.copyMemory(from: base, byteCount: $0.count) } }
            literals = storage
            parameterNames = names
            self.handler = handler
        }

        deinit { literals.deallocate() }

        /// Whether a path whose first segment is `segment` (nil: the path has none) may match.
        @inline(__always)
        func mayMatch(first segment: UnsafeRawBufferPointer?) -> Bool {
            switch (first, segment) {
            case (.none, nil): true
            case (.none, _?), (_, nil): false
            case (.any, _?): true
            case let (.literal(count, byte), segment?): segment.count == count && segment.first == byte
            }
        }
    }

    /// The next segment of `bytes` at or after `index` (empty ones skipped, as `//` is), or nil
    /// when there is none.
    @inline(__always)
    static func segment(in bytes: UnsafeRawBufferPointer, from index: Int) -> Range<Int>? {
        let slash = UInt8(ascii: "/")
        var start = index
        while start < bytes.count && bytes[start] == slash { start += 1 }
        guard start < bytes.count else { return nil }
        var end = start
        while end < bytes.count && bytes[end] != slash { end += 1 }
        return start..<end
    }

    enum Segment: Equatable, Sendable {
        /// The segment's bytes, compared with `memcmp`.
        case literal([UInt8])
        case parameter(String)
    }

    public enum Match {
        case found(Handler, parameters: RouteParameters)
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: String, _ pattern: String, _ handler: Handler) {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: true).map { part -> Segment in
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(Array(part.utf8))
        }
        routes.append(Route(method: method, segments: segments, handler: handler))
    }

    public mutating func get(_ pattern: String, _ handler: Handler) { add("GET", pattern, handler) }
    public mutating func put(_ pattern: String, _ handler: Handler) { add("PUT", pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: Handler) { add("POST", pattern, handler) }

    /// `path` is the request target's path, without the query. Walks the path's bytes against each
    /// route in turn: no array of segments, no dictionary, on the hot path.
    public func match(method: String, path: Substring) -> Match {
        let bytes = Array(path.utf8)
        var parameters = RouteParameters()
        if let route = find(method: method, path: 0..<bytes.count, of: bytes, binding: &parameters) {
            return .found(route.handler, parameters: parameters)
        }
        return refusal(for: 0..<bytes.count, of: bytes)
    }

    /// Why no route takes the path `bytes[path]` with the method asked for: the methods it has
    /// (405), or none (404).
    func refusal(for path: Range<Int>, of bytes: [UInt8]) -> Match {
        var parameters = RouteParameters()
        var allowed: [String] = []
        bytes.withUnsafeBytes { all in
            let raw = UnsafeRawBufferPointer(rebasing: all[path])
            for route in routes where !allowed.contains(route.method) && Self.bind(route, to: raw, into: &parameters) {
                allowed.append(route.method)
            }
        }
        if allowed.contains("GET") && !allowed.contains("HEAD") { allowed.append("HEAD") }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    /// The route for `method` and the path `bytes[path]` (`HEAD` falling back to `GET`), its
    /// parameters bound into `parameters`; nil when none matches (`match` then says why). The hot
    /// path of `match`: the path is matched where it lies, in the request head's bytes, which the
    /// parameters share (a retain, no string made until one is read); they are written in place,
    /// never copied through a result; and the route is returned rather than its handler, whose
    /// conversion from the generic `Handler` to a concrete closure would allocate a thunk if it
    /// escaped into a result (called at once, it does not).
    func find(method: String, path: Range<Int>, of bytes: [UInt8], binding parameters: inout RouteParameters) -> Route? {
        let found = bytes.withUnsafeBytes { all -> Route? in
            let raw = UnsafeRawBufferPointer(rebasing: all[path])
            let first = Self.segment(in: raw, from: 0).map { UnsafeRawBufferPointer(rebasing: raw[$0]) }
            for route in routes where route.mayMatch(first: first) && route.method == method {
                if Self.bind(route, to: raw, into: &parameters) { return route }
            }
            guard method == "HEAD" else { return nil }
            for route in routes where route.mayMatch(first: first) && route.method == "GET" {
                if Self.bind(route, to: raw, into: &parameters) { return route }
            }
            return nil
        }
        guard let found else { return nil }
        parameters.bound(names: found.parameterNames, in: bytes, from: path.lowerBound)
        return found
    }

    /// Walks the path's UTF-8 bytes in place against the route's parts, the values' ranges into
    /// `parameters` (emptied first).
    private static func bind(_ route: Route, to bytes: UnsafeRawBufferPointer, into parameters: inout RouteParameters) -> Bool {
        parameters.removeAll()
        guard let base = bytes.baseAddress else { return route.parts.isEmpty }
        let parts = route.parts
        var index = 0
        var matched = 0
        while let segment = segment(in: bytes, from: index) {
            guard matched < parts.count else { return false }
            let part = parts[matched]
            if part.count < 0 {
                parameters.append(segment)
            } else {
                guard part.count == segment.count,
                      memcmp(route.literals + part.offset, base + segment.lowerBound, part.count) == 0 else { return false }
            }
            matched += 1
            index = segment.upperBound
        }
        return matched == parts.count
    }
}

/// A route's `{name}` parameters, still percent-encoded: `request.parameters["name"]`.
///
/// A short list searched in order, not a dictionary: a route has a few parameters at most, and
/// this costs no hashing. The first three live in the value itself, so binding them
/// allocates nothing; only a route with more spills the rest into an array. The values stay
/// ranges into the request head's bytes until one is read.
public struct RouteParameters: Sendable {
    /// The route's parameter names, in order (empty: no route bound).
    private var names: [String] = []
    /// The bytes the values are taken from (a request head's, shared), and where the path starts.
    private var bytes: [UInt8] = []
    private var pathStart = 0
    /// Where each value lies in the path: the first three inline, any further ones spilled.
    private var count = 0
    private var inline: (Range<Int>, Range<Int>, Range<Int>) = (0..<0, 0..<0, 0..<0)
    private var spilled: [Range<Int>] = []

    public init() {}

    /// The values found are those of the route named `names`, in the path at `pathStart` of `bytes`.
    mutating func bound(names: [String], in bytes: [UInt8], from pathStart: Int) {
        self.names = names
        self.bytes = bytes
        self.pathStart = pathStart
    }

    /// No values, before a route is tried (the names and bytes are set only on a match).
    mutating func removeAll() {
        count = 0
        if !spilled.isEmpty { spilled.removeAll() }
    }

    mutating func append(_ value: Range<Int>) {
        switch count {
        case 0: inline.0 = value
        case 1: inline.1 = value
        case 2: inline.2 = value
        default: spilled.append(value)
        }
        count += 1
    }

    /// The value as a string of its own: made from the bytes on each read (slicing a string of the
    /// whole path instead cost ~500 instructions a request, most of it the check of the bounds).
    public subscript(name: String) -> Substring? {
        guard let position = names.firstIndex(of: name), position < count else { return nil }
        let range: Range<Int>
        switch position {
        case 0: range = inline.0
        case 1: range = inline.1
        case 2: range = inline.2
        default: range = spilled[position - 3]
        }
        let start = pathStart + range.lowerBound
        return bytes.withUnsafeBufferPointer { all in
            Substring(String(decoding: UnsafeBufferPointer(rebasing: all[start..<(start + range.count)]), as: UTF8.self))
        }
    }

    public var isEmpty: Bool { count == 0 }
}
