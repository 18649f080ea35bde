import Posix

/// One response as the client read it.
struct HTTPReply {
    let status: Int
    /// The status line and fields, without the blank line.
    let head: String
    let fields: [(name: String, value: String)]
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    func field(_ name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// `Connection: close` was sent: the server will close after this response.
    var closes: Bool { field("Connection")?.lowercased() == "close" }
}

/// The client side of an HTTP connection: sends raw requests through its `Peer` and reads the
/// responses in order, each framed by its `Content-Length` (the test server sends no other kind).
final class HTTPClient {
    let peer: Peer
    /// Where the next unread response starts in `peer.received`.
    private var cursor = 0

    init(_ peer: Peer) throws {
        self.peer = peer
        try peer.startReading()
    }

    /// Sends `request` and reads the next response.
    func exchange(_ request: String, bodyless: Bool = false) throws -> HTTPReply {
        try peer.send(request)
        return try next(bodyless: bodyless)
    }

    /// The next response, driving the loop until it has arrived whole. `bodyless`: the response
    /// to a HEAD, which has a `Content-Length` but no body.
    func next(bodyless: Bool = false, timeout: Duration = .seconds(10)) throws -> HTTPReply {
        var reply: HTTPReply?
        try peer.testLoop.run(until: "a complete response (have: \(String(decoding: peer.received[cursor...], as: UTF8.self).debugDescription))",
                              timeout: timeout) {
            reply = parse(bodyless: bodyless)
            return reply != nil || peer.isFinished
        }
        guard let reply else { throw Incomplete(received: String(decoding: peer.received[cursor...], as: UTF8.self)) }
        return reply
    }

    /// All the responses that can be read until the server closes the connection.
    func rest() throws -> [HTTPReply] {
        try peer.testLoop.run(until: "the server to close the connection") { peer.isFinished }
        var replies: [HTTPReply] = []
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
    private func parse(bodyless: Bool) -> HTTPReply? {
        let bytes = peer.received
        let separator: [UInt8] = [13, 10, 13, 10]
        guard bytes.count - cursor >= 4,
              let headEnd = (cursor...(bytes.count - 4)).first(where: { bytes[$0..<$0 + 4].elementsEqual(separator) })
        else { return nil }
        let head = String(decoding: bytes[cursor..<headEnd], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        let fields = lines.dropFirst().compactMap { line -> (name: String, value: String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: " "))
        }
        let bodyStart = headEnd + 4
        var length = 0
        if !bodyless && status >= 200 && status != 204 && status != 304 {
            length = fields.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
        }
        guard bytes.count - bodyStart >= length else { return nil }
        cursor = bodyStart + length
        return HTTPReply(status: status, head: head, fields: fields, body: Array(bytes[bodyStart..<bodyStart + length]))
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
