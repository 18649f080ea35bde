import EventLoop
import FoundationEssentials

/// JSON in and out with `Codable`, by FoundationEssentials' `JSONDecoder` and `JSONEncoder` (they
/// ship with the toolchain and start no thread).
extension Request {
    /// The body decoded as JSON, at most `limit` bytes of it: 413 over the limit, 400 naming what
    /// is wrong when it is not JSON or not a `T` (`malformed JSON: missing key "text"`).
    public func decode<T: Decodable>(_ type: T.Type, upTo limit: Int = Request.defaultBodyLimit,
                                     decoder: JSONDecoder = JSONDecoder()) async throws -> T {
        let bytes = try await bytes(upTo: limit)
        do {
            return try decoder.decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw HTTPError(.badRequest, "malformed JSON: \(JSONReason.of(error))")
        }
    }
}

extension Response {
    /// A JSON response (`application/json`). Throws what the encoder throws (a `Double` that is
    /// not finite, say): out of a handler, a 500 and a log line.
    public static func json<T: Encodable>(_ value: T, status: Status = .ok, encoder: JSONEncoder = Response.jsonEncoder()) throws -> Response {
        Response(status: status, headers: [("Content-Type", "application/json")], body: .bytes(Array(try encoder.encode(value))))
    }
}

extension Response {
    /// The encoder `json` uses unless given one: keys sorted, so the same value is always the
    /// same bytes (the encoder's own order follows the per-process hash seed), `/` unescaped.
    public static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// A decoding error in one line a client can act on: what is wrong, and where.
enum JSONReason {
    static func of(_ error: DecodingError) -> String {
        switch error {
        case let .keyNotFound(key, context): "missing key \"\(key.stringValue)\"\(at(context))"
        case let .typeMismatch(type, context): "expected \(describe(type))\(at(context))"
        case let .valueNotFound(type, context): "expected \(describe(type)), found null\(at(context))"
        case let .dataCorrupted(context): context.codingPath.isEmpty ? "not valid JSON" : "invalid value\(at(context))"
        @unknown default: "cannot decode"
        }
    }

    private static func at(_ context: DecodingError.Context) -> String {
        context.codingPath.isEmpty ? "" : " at " + context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type, is UInt64.Type, is Double.Type, is Float.Type: "a number"
        default: String(describing: type)
        }
    }
}
