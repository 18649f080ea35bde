/// Maps a method and a path to a handler, with `{name}` segments as parameters:
///
///     router.get("/hello/{name}") { request in .text("Hello, \(request.parameters["name"] ?? "")") }
///
/// Matching is on raw (still percent-encoded) segments, so an encoded `/` never splits a segment;
/// handlers decode parameters themselves. A path that matches with another method gives 405 with
/// `Allow`; no match, 404. `HEAD` falls back to the `GET` route (the server drops the body).
public struct Router<Handler: Sendable>: Sendable {
    struct Route: Sendable {
        let method: String
        let segments: [Segment]
        let handler: Handler
    }

    enum Segment: Equatable, Sendable {
        case literal(String)
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
            return .literal(String(part))
        }
        routes.append(Route(method: method, segments: segments, handler: handler))
    }

    public mutating func get(_ pattern: String, _ handler: Handler) { add("GET", pattern, handler) }
    public mutating func put(_ pattern: String, _ handler: Handler) { add("PUT", pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: Handler) { add("POST", pattern, handler) }

    /// `path` is the request target's path, without the query. Walks the path's bytes against each
    /// route in turn: no array of segments, no dictionary, on the hot path.
    public func match(method: String, path: Substring) -> Match {
        for route in routes where route.method == method {
            if let parameters = Self.bind(route.segments, to: path) { return .found(route.handler, parameters: parameters) }
        }
        if method == "HEAD" {
            for route in routes where route.method == "GET" {
                if let parameters = Self.bind(route.segments, to: path) { return .found(route.handler, parameters: parameters) }
            }
        }
        var allowed: [String] = []
        for route in routes where !allowed.contains(route.method) && Self.bind(route.segments, to: path) != nil {
            allowed.append(route.method)
        }
        if allowed.contains("GET") && !allowed.contains("HEAD") { allowed.append("HEAD") }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    /// The parameters if `path`'s segments (empty ones skipped, as `//` is) match `segments`.
    static func bind(_ segments: [Segment], to path: Substring) -> RouteParameters? {
        let slash = UInt8(ascii: "/")
        let bytes = path.utf8
        var parameters = RouteParameters()
        var index = bytes.startIndex
        var matched = 0
        while true {
            while index < bytes.endIndex && bytes[index] == slash { index = bytes.index(after: index) }
            if index == bytes.endIndex { break }
            var end = index
            while end < bytes.endIndex && bytes[end] != slash { end = bytes.index(after: end) }
            guard matched < segments.count else { return nil }
            let part = path[index..<end]
            switch segments[matched] {
            case let .literal(text): guard part.utf8.elementsEqual(text.utf8) else { return nil }
            case let .parameter(name): parameters.values.append((name, part))
            }
            matched += 1
            index = end
        }
        return matched == segments.count ? parameters : nil
    }
}

/// A route's `{name}` parameters, still percent-encoded: `request.parameters["name"]`.
///
/// A short list searched in order, not a dictionary: a route has a few parameters at most, and
/// this costs no hashing and, for routes without parameters, no allocation.
public struct RouteParameters: Sendable {
    var values: [(name: String, value: Substring)] = []

    public init() {}

    public subscript(name: String) -> Substring? {
        for pair in values where pair.name == name { return pair.value }
        return nil
    }

    public var isEmpty: Bool { values.isEmpty }
}
