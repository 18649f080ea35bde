import FoundationEssentials

extension HTTPClient.CollectedResponse {
    /// The body decoded as JSON with `Codable` (FoundationEssentials' `JSONDecoder`, which ships with
    /// the toolchain): the other half of a handler's `request.decode` and `.json`, for what another
    /// service answered. Throws the decoder's `DecodingError` when the body is not a `T`.
    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(T.self, from: Data(body))
    }
}
