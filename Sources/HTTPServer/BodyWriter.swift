import EventLoop
/// Writing a streamed body from values: text and byte arrays, no pointers.
///
///     Response(body: .stream { writer in
///         for n in 1...3 { try await writer.write("line \(n)\n") }
///     })
extension BodyWriter {
    /// Writes `text` as UTF-8, one chunk.
    public func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }
}

extension ChunkWriter {
    /// The chunk's size line, `bytes` and its CRLF copied into one buffer and sent in one write:
    /// the array's storage cannot be held across the wait for the socket, the writer's buffer can.
    func write(_ bytes: [UInt8]) async throws {
        guard !bytes.isEmpty else { return }
        framing.removeAll()
        if chunked { ResponseHead.append(String(bytes.count, radix: 16) + "\r\n", to: framing) }
        bytes.withUnsafeBytes { framing.append($0) }
        if chunked { ResponseHead.append("\r\n", to: framing) }
        guard await connection.write(framing.bytes, timeout: timeout) else { throw Failed() }
    }
}
