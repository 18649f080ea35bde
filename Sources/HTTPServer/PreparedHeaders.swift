/// Header fields encoded once, for responses that send the same ones again and again (a cached
/// file's `ETag`, `Last-Modified`, `Content-Type`; the `Content-Type` of `.text`): writing the head
/// then copies one block of bytes instead of walking the list, which per field cost a pass over
/// two strings to size the head and another to copy them (≈ 75 instructions a field, with their
/// retains and releases: `scripts/instructions-per-request`).
///
/// A response made from them still lists them in `Response.headers`; changing that list (a
/// middleware adding a field) drops the encoded block, so what is sent is always the list.
public struct PreparedHeaders: Sendable {
    public let fields: [(name: String, value: String)]
    /// `name: value\r\n` for each field, in order.
    let encoded: [UInt8]

    public init(_ fields: [(name: String, value: String)]) {
        self.fields = fields
        // The same lines as the head writer's, by the same code.
        encoded = [UInt8](unsafeUninitializedCapacity: ResponseHead.encodedCount(of: fields)) { buffer, initialized in
            initialized = 0
            guard let base = buffer.baseAddress else { return }
            var writer = ResponseHead.HeadWriter(at: UnsafeMutableRawPointer(base))
            writer.put(fields: fields)
            initialized = writer.count
        }
    }
}
