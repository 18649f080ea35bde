import EventLoop
import WebSocket

/// The hand-off to a WebSocket: after the 101 the connection parses no more HTTP, and the session
/// owns the socket until it ends. Normal requests never come here: the one cost to them is a case
/// of the response body's `switch`.
extension HTTPConnection {
    /// Writes the 101, then runs the session on this task. Returns false: the connection is
    /// closed after it, never kept alive for another request. What the client sent after its
    /// head (frames, already) goes to the session.
    @inline(never)  // kept out of `write`, so its frame does not grow the common path's
    func handOff(to handoff: WebSocketHandoff, _ response: Response) async -> Bool {
        output.removeAll()
        ResponseHead.encode(response.status, headers: response.headers, prepared: response.prepared, framing: .none, date: service.dates.value(), close: false, into: output)
        guard await connection.write(output.bytes, timeout: settings.writeTimeout) else { return false }
        let unread = input.isEmpty ? [] : Array(UnsafeRawBufferPointer(rebasing: input[start..<end]))
        let session = WebSocketSession(request: handoff.request, connection: connection, settings: handoff.settings, unread: unread)
        await session.run(handoff.handler)
        // What the client still sends (the rest of a refused message) is read and dropped, so
        // that closing with it unread does not reset the connection before our close frame is read.
        await connection.lingeringClose(timeout: handoff.settings.closeTimeout)
        return false
    }
}
