import Posix
// Re-exported for the whole target: every test reads responses as TestSupport's HTTPResponse.
@_exported import TestSupport

/// The client side of an HTTP connection: sends raw requests through its `Peer` and reads the
/// responses in order, each framed by its `Content-Length` (the test server sends no other kind).
final class RawHTTPClient {
    let peer: Peer
    /// Where the next unread response starts in `peer.received`.
    private var cursor = 0

    init(_ peer: Peer) throws {
        self.peer = peer
        try peer.startReading()
    }

    /// Sends `request` and reads the next response.
    func exchange(_ request: String, bodyless: Bool = false) throws -> HTTPResponse {
        try peer.send(request)
        return try next(bodyless: bodyless)
    }

    /// The next response, driving the loop until it has arrived whole. `bodyless`: the response
    /// to a HEAD, which has a `Content-Length` but no body.
    func next(bodyless: Bool = false, timeout: Duration = .seconds(10)) throws -> HTTPResponse {
        var reply: HTTPResponse?
        try peer.testLoop.run(until: "a complete response (have: \(String(decoding: peer.received[cursor...], as: UTF8.self).debugDescription))",
                              timeout: timeout) {
            reply = parse(bodyless: bodyless)
            return reply != nil || peer.isFinished
        }
        guard let reply else { throw Incomplete(received: String(decoding: peer.received[cursor...], as: UTF8.self)) }
        return reply
    }

    /// All the responses that can be read until the server closes the connection.
    func rest() throws -> [HTTPResponse] {
        try peer.testLoop.run(until: "the server to close the connection") { peer.isFinished }
        var replies: [HTTPResponse] = []
        while let reply = parse(bodyless: false) { replies.append(reply) }
        return replies
    }

    /// What arrived after the responses read so far.
    var unread: String { String(decoding: peer.received[cursor...], as: UTF8.self) }

    struct Incomplete: Error, CustomStringConvertible {
        let received: String
        var description: String { "the connection ended before a complete response; unread: \(received.debugDescription)" }
    }

    /// Parses one response at `cursor` if it is all there, and moves past it.
    private func parse(bodyless: Bool) -> HTTPResponse? {
        guard let (response, next) = HTTPResponse.framed(in: peer.received, from: cursor, bodyless: bodyless) else { return nil }
        cursor = next
        return response
    }
}
