/// The request line, `method SP request-target SP HTTP-version` (RFC 9112 §3), with the target as
/// a range into the head's bytes.
struct RequestLine: Sendable {
    let method: HTTPMethod
    let target: Range<Int>
    let version: HTTPVersion

    /// Parses a complete request line, `line` being its bytes without CRLF and `methodEnd` the
    /// index of the SP after the method (found, and the method validated, by `MethodScan`).
    ///
    /// Strict on purpose: exactly one SP between the parts (no run of spaces, no tabs, RFC 9112 §3
    /// allows a recipient to be lenient but a proxy in front of us may split the line differently),
    /// and the target in one of the four forms of RFC 9112 §3.2.
    static func parse(_ raw: UnsafeRawBufferPointer, line: Range<Int>, methodEnd: Int) -> Result<RequestLine, HTTPParseError> {
        let method = HTTPMethod(raw, line.lowerBound..<methodEnd)
        let targetStart = methodEnd + 1
        var cursor = targetStart
        while cursor < line.upperBound && raw[cursor] != .space {
            guard raw[cursor].isTargetChar else { return .failure(.invalidTarget) }
            cursor += 1
        }
        // No second SP (an HTTP/0.9-style line) or nothing between the two (a run of spaces).
        guard cursor < line.upperBound, cursor > targetStart else { return .failure(.malformedRequestLine) }
        let target = targetStart..<cursor
        let version: HTTPVersion
        switch HTTPVersion.parse(raw, (cursor + 1)..<line.upperBound) {
        case .success(let parsed): version = parsed
        case .failure(let error): return .failure(error)
        }
        guard formIsAllowed(raw, target, for: method) else { return .failure(.invalidTargetForm) }
        return .success(RequestLine(method: method, target: target, version: version))
    }

    /// origin-form (`/path?query`) for any method but CONNECT; asterisk-form (`*`) for OPTIONS only;
    /// authority-form (`host:port`) for CONNECT only; absolute-form (`scheme:…`) for any method but
    /// CONNECT (RFC 9112 §3.2).
    private static func formIsAllowed(_ raw: UnsafeRawBufferPointer, _ target: Range<Int>, for method: HTTPMethod) -> Bool {
        let first = raw[target.lowerBound]
        if first == .slash { return method != .connect }
        if first == .asterisk && target.count == 1 { return method == .options }
        if method == .connect { return true }
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":".
        guard first.isLetter else { return false }
        for index in target.dropFirst() {
            let byte = raw[index]
            if byte == .colon { return true }
            guard byte.isLetter || byte.isDigit || byte == 0x2B || byte == 0x2D || byte == 0x2E else { return false }
        }
        return false
    }
}

/// Validates the method while the request line is still arriving.
///
/// Without it, a client that sends something that is not HTTP at all (a TLS handshake on the plain
/// port, a binary protocol) would hold its connection until 8 KiB arrived or the header timeout
/// struck; with it, the first byte that cannot be in a method gets a 400. It resumes where it left
/// off, so feeding a line one byte at a time costs no rescan, and it judges exactly the bytes the
/// complete line would be judged on, so the answer never depends on how the line was split.
struct MethodScan: Sendable {
    /// Bytes of the line already accepted as part of the method.
    private(set) var scanned = 0
    /// The index of the SP that ends the method, once seen.
    private(set) var methodEnd: Int?

    /// Scans `raw[lineStart + scanned ..< end]`, `end` being where the line's content is known to
    /// stop for now (the bytes received so far, capped at the request-line limit).
    mutating func advance(_ raw: UnsafeRawBufferPointer, lineStart: Int, upTo end: Int) -> HTTPParseError? {
        var index = lineStart + scanned
        while methodEnd == nil && index < end {
            let byte = raw[index]
            if byte == .space {
                guard index > lineStart else { return .emptyMethod }
                methodEnd = index
            } else if !byte.isTokenChar {
                // The last byte received may be the CR of the line's CRLF: wait for what follows it.
                if byte == .cr && index == raw.count - 1 { break }
                return .invalidMethod
            }
            index += 1
        }
        scanned = index - lineStart
        return nil
    }
}
