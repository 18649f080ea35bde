/// What the fields that matter to the parser say, gathered line by line as the head arrives and
/// judged once the head is complete (RFC 9110, RFC 9112 §6).
struct FieldFacts: Sendable {
    private(set) var contentLength: Int?
    private(set) var hostField: Int?
    private var hostCount = 0
    private var transferEncodingSeen = false
    private var codings = 0
    private var chunkedCount = 0
    private var lastCodingIsChunked = false
    private var unknownCoding = false
    private var connectionClose = false
    private var connectionKeepAlive = false
    private var expectContinue = false
    private(set) var unsupportedExpectation = false

    /// Records the field at `index` if its name is one the parser acts on. Errors that a single
    /// line shows (a malformed length, a second Host) are reported at once. Inlined into the
    /// field-line loop, as `FieldRange.parse` is (~8 instructions a line).
    @inline(__always)
    mutating func record(_ field: FieldRange, index: Int, in raw: UnsafeRawBufferPointer) -> HTTPParseError? {
        switch field.name.count {
        case 4 where raw.equalsIgnoringCase(field.name, "host"):
            return recordHost(field.value, index: index, in: raw)
        case 6 where raw.equalsIgnoringCase(field.name, "expect"):
            if raw.equalsIgnoringCase(field.value, "100-continue") { expectContinue = true } else { unsupportedExpectation = true }
        case 10 where raw.equalsIgnoringCase(field.name, "connection"):
            raw.forEachListElement(field.value) { option in
                if raw.equalsIgnoringCase(option, "close") { connectionClose = true }
                if raw.equalsIgnoringCase(option, "keep-alive") { connectionKeepAlive = true }
            }
        case 14 where raw.equalsIgnoringCase(field.name, "content-length"):
            return recordContentLength(field.value, in: raw)
        case 17 where raw.equalsIgnoringCase(field.name, "transfer-encoding"):
            transferEncodingSeen = true
            raw.forEachListElement(field.value) { coding in
                codings += 1
                lastCodingIsChunked = raw.equalsIgnoringCase(coding, "chunked")
                if lastCodingIsChunked { chunkedCount += 1 } else { unknownCoding = true }
            }
        default:
            break
        }
        return nil
    }

    /// RFC 9112 §3.2: more than one Host, or an invalid one, is a 400.
    private mutating func recordHost(_ value: Range<Int>, index: Int, in raw: UnsafeRawBufferPointer) -> HTTPParseError? {
        hostCount += 1
        guard hostCount == 1 else { return .multipleHosts }
        for position in value where !raw[position].isHostChar { return .invalidHost }
        hostField = index
        return nil
    }

    /// `Content-Length = 1*DIGIT` (RFC 9110 §8.6), OWS already trimmed. A list (`5, 6`), a sign, hex,
    /// inner whitespace or a value past `Int.max` is refused; so is a second Content-Length, even an
    /// identical one (`5, 5` or two `5` lines): RFC 9110 allows merging identical values, but
    /// refusing is simpler and a proxy that sends them is broken anyway.
    private mutating func recordContentLength(_ value: Range<Int>, in raw: UnsafeRawBufferPointer) -> HTTPParseError? {
        guard contentLength == nil else { return .duplicateContentLength }
        guard !value.isEmpty else { return .invalidContentLength }
        var length = 0
        for position in value {
            let byte = raw[position]
            guard byte.isDigit else { return .invalidContentLength }
            let (shifted, overflowA) = length.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = shifted.addingReportingOverflow(Int(byte &- 0x30))
            guard !overflowA && !overflowB else { return .contentLengthOverflow }
            length = sum
        }
        contentLength = length
        return nil
    }

    /// The body framing, once every field is known (RFC 9112 §6.1, §6.3), or why there is none.
    /// Only `chunked` is implemented, and only as the sole coding. A request whose final coding is
    /// not `chunked` has no reliable length at all: 400, then close (§6.3 item 4, a MUST). One that
    /// ends in `chunked` but also names a coding we do not implement gets 501 (§6.1).
    func framing(for version: HTTPVersion) -> Result<BodyFraming, HTTPParseError> {
        if version == .http11 && hostCount == 0 { return .failure(.missingHost) }
        guard transferEncodingSeen else { return .success(contentLength.map(BodyFraming.contentLength) ?? .noBody) }
        if version == .http10 { return .failure(.transferEncodingInHTTP10) }
        if contentLength != nil { return .failure(.contentLengthWithTransferEncoding) }
        if codings == 0 { return .failure(.emptyTransferEncoding) }
        if !lastCodingIsChunked { return .failure(.chunkedNotFinal) }
        if unknownCoding { return .failure(.unsupportedTransferCoding) }
        if chunkedCount > 1 { return .failure(.chunkedAppliedTwice) }
        return .success(.chunked)
    }

    /// HTTP/1.1 is persistent unless `close`; HTTP/1.0 only with `keep-alive` (RFC 9112 §9.3).
    func keepAlive(for version: HTTPVersion) -> Bool {
        switch version {
        case .http11: !connectionClose
        case .http10: connectionKeepAlive && !connectionClose
        }
    }

    /// `100-continue` matters only to an HTTP/1.1 client (RFC 9110 §10.1.1).
    func expectsContinue(for version: HTTPVersion) -> Bool {
        version == .http11 && expectContinue && !unsupportedExpectation
    }

    /// A response's framing from its fields (RFC 9112 §6.3 items 3 to 7; the method and status
    /// are the parser's part). Stricter than the RFC where it is lenient: a response with both
    /// `Content-Length` and `Transfer-Encoding`, or a coding other than a sole `chunked`, is
    /// refused rather than read as close-delimited bytes we could not decode.
    func responseFraming(for version: HTTPVersion) -> Result<ResponseFraming, HTTPParseError> {
        guard transferEncodingSeen else { return .success(contentLength.map(ResponseFraming.contentLength) ?? .untilClose) }
        if version == .http10 { return .failure(.transferEncodingInHTTP10) }
        if contentLength != nil { return .failure(.contentLengthWithTransferEncoding) }
        if codings == 0 { return .failure(.emptyTransferEncoding) }
        if unknownCoding { return .failure(.unsupportedTransferCoding) }
        if chunkedCount > 1 { return .failure(.chunkedAppliedTwice) }
        return .success(.chunked)
    }
}
