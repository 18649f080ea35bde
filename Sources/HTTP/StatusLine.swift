/// The status line, `HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4).
struct StatusLine: Sendable {
    let version: HTTPVersion
    let status: Int
    let reason: Range<Int>
}

/// A response's start line: `HTTP/` is checked as it arrives, so a peer that does not speak HTTP
/// is refused at its first wrong byte, not after 8 KiB or a timeout.
///
/// Strict like the request side, with one leniency: the SP after the status code may be missing
/// when the reason is (`HTTP/1.1 200`), which servers in the wild send and which changes nothing
/// about where the message ends.
struct ResponseStartLine: StartLineRules {
    /// Bytes of the line already checked against `HTTP/`.
    private var scanned = 0

    init() {}

    static func maxLineLength(_ limits: RequestParser.Limits) -> Int { limits.maxRequestLineLength }

    static var lineTooLong: HTTPParseError { .statusLineTooLong }

    mutating func scan(_ raw: UnsafeRawBufferPointer, lineStart: Int, upTo end: Int) -> HTTPParseError? {
        let prefix: StaticString = "HTTP/"
        while scanned < prefix.utf8CodeUnitCount && lineStart + scanned < end {
            let byte = raw[lineStart + scanned]
            // The last byte received may be the CR of the line's CRLF: the complete line judges it.
            if byte == .cr && lineStart + scanned == raw.count - 1 { break }
            guard byte == prefix.utf8Start[scanned] else { return .malformedStatusLine }
            scanned += 1
        }
        return nil
    }

    mutating func parse(_ raw: UnsafeRawBufferPointer, line: Range<Int>) -> Result<StatusLine, HTTPParseError> {
        let start = line.lowerBound
        guard line.count >= 12, raw[start + 8] == .space else { return .failure(.malformedStatusLine) }
        let version: HTTPVersion
        switch HTTPVersion.parse(raw, start..<(start + 8)) {
        case .success(let parsed): version = parsed
        case .failure(let error): return .failure(error == .unsupportedVersion ? .unsupportedResponseVersion : .malformedStatusLine)
        }
        var status = 0
        for index in (start + 9)..<(start + 12) {
            guard raw[index].isDigit else { return .failure(.invalidStatusCode) }
            status = status * 10 + Int(raw[index] &- 0x30)
        }
        guard (100...599).contains(status) else { return .failure(.invalidStatusCode) }
        guard line.count == 12 || raw[start + 12] == .space else { return .failure(.invalidStatusCode) }
        let reason = min(start + 13, line.upperBound)..<line.upperBound
        guard raw.allFieldValueChars(reason) else { return .failure(.malformedStatusLine) }
        return .success(StatusLine(version: version, status: status, reason: reason))
    }

    static func head(line: StatusLine, facts: FieldFacts, headers: HTTPHeaders) -> Result<ResponseHead, HTTPParseError> {
        let framing: ResponseFraming
        switch facts.responseFraming(for: line.version) {
        case .success(let decided): framing = decided
        case .failure(let error): return .failure(error)
        }
        return .success(ResponseHead(
            version: line.version, status: line.status, headers: headers, framing: framing,
            persistent: facts.keepAlive(for: line.version), reasonRange: line.reason))
    }
}
