import EventLoop
import Glibc

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
    /// asked for it. Written straight into the buffer's storage (`HeadWriter`).
    /// `prepared` is `headers` already encoded (`PreparedHeaders`), copied instead when given.
    public static func encode(_ status: Status, headers: [(name: String, value: String)], prepared: [UInt8]? = nil,
                              framing: Framing, date: String, close: Bool, keepAlive10: Bool = false, into buffer: ByteBuffer) {
        // An upper bound: the fixed text (under 160 bytes with every option), two decimals of
        // at most 20 digits, the strings, and ": " plus CRLF per header.
        var capacity = 200 + status.reason.utf8.count + date.utf8.count
        capacity += prepared?.count ?? encodedCount(of: headers)
        var head = HeadWriter(at: buffer.tail(reserving: capacity))
        head.put("HTTP/1.1 ")
        head.putStatusCode(status.code)
        head.put(" ")
        head.put(status.reason)
        head.put("\r\nServer: supervisor\r\nDate: ")
        head.put(date)
        head.put("\r\n")
        if let prepared {
            head.put(prepared)
        } else {
            head.put(fields: headers)
        }
        switch framing {
        case let .contentLength(length):
            head.put("Content-Length: ")
            head.putDecimal(length)
            head.put("\r\n")
        case .chunked:
            head.put("Transfer-Encoding: chunked\r\n")
        case .none:
            break
        }
        if close {
            head.put("Connection: close\r\n")
        } else if keepAlive10 {
            head.put("Connection: keep-alive\r\n")
        }
        head.put("\r\n")
        buffer.grow(by: head.count)
    }

    /// The bytes `fields` take as `name: value` lines (`HeadWriter.put(fields:)`).
    static func encodedCount(of fields: [(name: String, value: String)]) -> Int {
        var count = 0
        for field in fields { count += field.name.utf8.count + field.value.utf8.count + 4 }
        return count
    }

    /// Writes a head's pieces one after the other into memory with room for them all.
    struct HeadWriter {
        let start: UnsafeMutableRawPointer
        private(set) var count = 0

        init(at start: UnsafeMutableRawPointer) { self.start = start }

        @inline(__always)
        mutating func put(_ text: StaticString) {
            memcpy(start + count, text.utf8Start, text.utf8CodeUnitCount)
            count += text.utf8CodeUnitCount
        }

        /// From the string's own storage (a small string's from the stack), without the copy
        /// `withUTF8` needs (it is mutating: a retain and a release per string).
        @inline(__always)
        mutating func put(_ text: String) {
            let start = start + count
            let copied = text.utf8.withContiguousStorageIfAvailable { bytes -> Int in
                guard let base = bytes.baseAddress else { return 0 }
                memcpy(start, base, bytes.count)
                return bytes.count
            }
            if let copied {
                count += copied
            } else {  // not contiguous (bridged, never here): byte by byte
                for byte in text.utf8 {
                    self.start.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
                    count += 1
                }
            }
        }

        /// Each field as a `name: value` line, CRLF-terminated.
        @inline(__always)
        mutating func put(fields: [(name: String, value: String)]) {
            for field in fields {
                put(field.name)
                put(": ")
                put(field.value)
                put("\r\n")
            }
        }

        @inline(__always)
        mutating func put(_ bytes: [UInt8]) {
            bytes.withUnsafeBytes { bytes in
                guard let base = bytes.baseAddress else { return }
                memcpy(start + count, base, bytes.count)
                count += bytes.count
            }
        }

        /// A status code: three digits (RFC 9110 §15) stored at once, without `putDecimal`'s
        /// counting and dividing (~40 instructions a response); any other number as a decimal.
        @inline(__always)
        mutating func putStatusCode(_ code: Int) {
            guard code >= 100 && code <= 999 else { return putDecimal(code) }
            let zero = UInt8(ascii: "0")
            (start + count).storeBytes(of: zero &+ UInt8(truncatingIfNeeded: code / 100), as: UInt8.self)
            (start + count + 1).storeBytes(of: zero &+ UInt8(truncatingIfNeeded: code / 10 % 10), as: UInt8.self)
            (start + count + 2).storeBytes(of: zero &+ UInt8(truncatingIfNeeded: code % 10), as: UInt8.self)
            count += 3
        }

        /// The digits written in place, back to front, once their number is known: no scratch
        /// buffer to copy from (a status code and a length per response).
        mutating func putDecimal(_ value: Int) {
            if value < 0 { put("-") }
            var rest = value.magnitude
            var digits = 1
            var power: UInt = 10
            while rest >= power {
                digits += 1
                let (next, overflow) = power.multipliedReportingOverflow(by: 10)
                if overflow { break }
                power = next
            }
            var cursor = start + count + digits
            repeat {
                cursor -= 1
                cursor.storeBytes(of: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10), as: UInt8.self)
                rest /= 10
            } while rest > 0
            count += digits
        }
    }

    @inline(__always)
    static func append(_ text: String, to buffer: ByteBuffer) {
        var text = text
        text.withUTF8 { buffer.append(UnsafeRawBufferPointer($0)) }
    }
}
