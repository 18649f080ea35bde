import Foundation
import Glibc
// Re-exported for the whole target: every test reads responses as TestSupport's HTTPResponse.
@_exported import TestSupport

/// The integration tests' one HTTP client, over an `EchoClient` connection (a blocking socket with
/// send and receive timeouts): raw bytes out, so a test can send anything (a PROXY header, a
/// malformed head, a body cut short); responses parsed back, one at a time on a kept-alive
/// connection, or the whole exchange when the server closes.
enum HTTPTestClient {
    /// Sends `raw` on a new connection and returns every byte the server sent until it closed.
    static func exchange(port: UInt16, _ raw: [UInt8], timeout: TimeInterval = 10) throws -> [UInt8] {
        let client = try EchoClient(port: port, timeout: timeout)
        var bytes = raw
        try client.send(bytes: &bytes)
        return try client.receiveAll()
    }

    /// `exchange` with text in and out.
    static func exchange(port: UInt16, _ raw: String, timeout: TimeInterval = 10) throws -> String {
        String(decoding: try exchange(port: port, Array(raw.utf8), timeout: timeout), as: UTF8.self)
    }

    /// One request with `Connection: close` on `connection`; the response, its body read to the close.
    static func get(_ connection: EchoClient, _ target: String, headers: [String] = [], method: String = "GET") throws -> HTTPResponse {
        try connection.send("\(method) \(target) HTTP/1.1\r\nHost: x\r\n" + headers.map { $0 + "\r\n" }.joined()
                            + "Connection: close\r\n\r\n")
        return try HTTPResponse(parsing: connection.receiveAll())
    }

    /// `get` on a new connection to 127.0.0.1:`port`.
    static func get(port: UInt16, _ target: String, headers: [String] = [], method: String = "GET",
                    timeout: TimeInterval = 10) throws -> HTTPResponse {
        try get(try EchoClient(port: port, timeout: timeout), target, headers: headers, method: method)
    }
}

extension EchoClient {
    /// Reads one response on a kept-alive connection: the head, then a `Content-Length` body (a
    /// response without one, such as a 304 or a HEAD's, has none here).
    func readResponse() throws -> HTTPResponse {
        var head: [UInt8] = []
        while !head.suffix(4).elementsEqual([13, 10, 13, 10]) {
            let byte = try receiveBytes(1)
            guard !byte.isEmpty else { throw Failure(description: "EOF inside a response head") }
            head += byte
        }
        let text = String(decoding: head.dropLast(4), as: UTF8.self)
        let length = HTTPResponse.header("Content-Length", in: text).flatMap { Int($0) } ?? 0
        return HTTPResponse(head: text, body: try receiveBytes(length))
    }
}
