import EventLoop

/// Encodes a response's status line and header block into a reused buffer: the bytes that go out
/// before the body, built without a string per header where the server writes its own.
public enum ResponseHead {
    public enum Framing: Equatable, Sendable {
        case contentLength(Int)
        case chunked
        /// No framing header: 1xx/204/304, or a body delimited by closing (HTTP/1.0 stream).
        case none
    }

    static let crlf: [UInt8] = [13, 10]

    /// Appends the head to `buffer`. `date` is the cached `Date` value; `close` adds
    /// `Connection: close`, `keepAlive10` adds `Connection: keep-alive` for an HTTP/1.0 client that
    /// asked for it.
    public static func encode(_ status: Status, headers: [(name: String, value: String)], framing: Framing,
                              date: String, close: Bool, keepAlive10: Bool = false, into buffer: ByteBuffer) {
        append("HTTP/1.1 ", to: buffer)
        appendDecimal(status.code, to: buffer)
        append(" ", to: buffer)
        append(status.reason, to: buffer)
        append("\r\nServer: supervisor\r\nDate: ", to: buffer)
        append(date, to: buffer)
        append("\r\n", to: buffer)
        for header in headers {
            append(header.name, to: buffer)
            append(": ", to: buffer)
            append(header.value, to: buffer)
            append("\r\n", to: buffer)
        }
        switch framing {
        case let .contentLength(length):
            append("Content-Length: ", to: buffer)
            appendDecimal(length, to: buffer)
            append("\r\n", to: buffer)
        case .chunked:
            append("Transfer-Encoding: chunked\r\n", to: buffer)
        case .none:
            break
        }
        if close {
            append("Connection: close\r\n", to: buffer)
        } else if keepAlive10 {
            append("Connection: keep-alive\r\n", to: buffer)
        }
        append("\r\n", to: buffer)
    }

    @inline(__always)
    static func append(_ text: String, to buffer: ByteBuffer) {
        var text = text
        text.withUTF8 { buffer.append(UnsafeRawBufferPointer($0)) }
    }

    static func appendDecimal(_ value: Int, to buffer: ByteBuffer) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: enough for any Int
        withUnsafeMutableBytes(of: &digits) { raw in
            var cursor = raw.count
            var rest = value.magnitude
            repeat {
                cursor -= 1
                raw[cursor] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            if value < 0 { cursor -= 1; raw[cursor] = UInt8(ascii: "-") }
            buffer.append(UnsafeRawBufferPointer(rebasing: raw[cursor...]))
        }
    }
}
