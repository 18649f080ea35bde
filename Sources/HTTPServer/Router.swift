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
        case found(Handler, parameters: [String: Substring])
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private var routes: [Route] = []

    public init() {}

    public mutating func add(_ method: String, _ pattern: String, _ handler: Handler) {
        let segments = Self.split(pattern).map { part -> Segment in
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

    /// `path` is the request target's path, without the query.
    public func match(method: String, path: Substring) -> Match {
        let parts = Self.split(path)
        var allowed: [String] = []
        for lookup in method == "HEAD" ? ["HEAD", "GET"] : [method] {
            for route in routes where route.method == lookup {
                if let parameters = Self.bind(route.segments, to: parts) { return .found(route.handler, parameters: parameters) }
            }
        }
        for route in routes where Self.bind(route.segments, to: parts) != nil && !allowed.contains(route.method) {
            allowed.append(route.method)
        }
        if allowed.contains("GET") && !allowed.contains("HEAD") { allowed.append("HEAD") }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    static func split<S: StringProtocol>(_ path: S) -> [Substring] where S.SubSequence == Substring {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    static func split(_ path: String) -> [Substring] {
        path[...].split(separator: "/", omittingEmptySubsequences: true)
    }

    static func bind(_ segments: [Segment], to parts: [Substring]) -> [String: Substring]? {
        guard segments.count == parts.count else { return nil }
        var parameters: [String: Substring] = [:]
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case let .literal(text): guard part == text else { return nil }
            case let .parameter(name): parameters[name] = part
            }
        }
        return parameters
    }
}
