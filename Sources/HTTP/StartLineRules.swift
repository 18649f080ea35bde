/// What differs between a request head and a response head for `HeadAssembler`: how the first
/// line is judged (while it arrives, and once complete) and what the complete head becomes. The
/// field lines, their limits and their meaning (`FieldFacts`) are shared.
protocol StartLineRules: Sendable {
    associatedtype Line: Sendable
    associatedtype Head
    /// The state of a scan over a start line still arriving, fresh for each line.
    init()
    /// The longest start line, CRLF included.
    static func maxLineLength(_ limits: RequestParser.Limits) -> Int
    /// The error for a start line over `maxLineLength`.
    static var lineTooLong: HTTPParseError { get }
    /// Checks the start line's bytes that have arrived (`raw[lineStart..<end]`), so that input
    /// that cannot be HTTP is refused before the line is complete; resumes where it stopped.
    mutating func scan(_ raw: UnsafeRawBufferPointer, lineStart: Int, upTo end: Int) -> HTTPParseError?
    /// Parses the complete line, without its CRLF.
    mutating func parse(_ raw: UnsafeRawBufferPointer, line: Range<Int>) -> Result<Line, HTTPParseError>
    /// The head, once the empty line after the fields arrived.
    static func head(line: Line, facts: FieldFacts, headers: HTTPHeaders) -> Result<Head, HTTPParseError>
}

/// A request's start line: the method is validated as it arrives (`MethodScan`), the head must
/// name its host, and its framing follows RFC 9112 §6.3 for requests.
struct RequestStartLine: StartLineRules {
    struct Completed {
        let head: RequestHead
        /// An `Expect` other than `100-continue`: answer 417 (after the framing was validated).
        let unsupportedExpectation: Bool
    }

    private var methodScan = MethodScan()

    init() {}

    static func maxLineLength(_ limits: RequestParser.Limits) -> Int { limits.maxRequestLineLength }

    static var lineTooLong: HTTPParseError { .requestLineTooLong }

    mutating func scan(_ raw: UnsafeRawBufferPointer, lineStart: Int, upTo end: Int) -> HTTPParseError? {
        methodScan.advance(raw, lineStart: lineStart, upTo: end)
    }

    mutating func parse(_ raw: UnsafeRawBufferPointer, line: Range<Int>) -> Result<RequestLine, HTTPParseError> {
        guard let methodEnd = methodScan.methodEnd else { return .failure(.malformedRequestLine) }
        return RequestLine.parse(raw, line: line, methodEnd: methodEnd)
    }

    static func head(line: RequestLine, facts: FieldFacts, headers: HTTPHeaders) -> Result<Completed, HTTPParseError> {
        let version = line.version
        let framing: BodyFraming
        switch facts.framing(for: version) {
        case .success(let decided): framing = decided
        case .failure(let error): return .failure(error)
        }
        let head = RequestHead(
            method: line.method, version: version, headers: headers, framing: framing,
            keepAlive: facts.keepAlive(for: version), expectContinue: facts.expectsContinue(for: version),
            targetRange: line.target, hostField: facts.hostField)
        return .success(Completed(head: head, unsupportedExpectation: facts.unsupportedExpectation))
    }
}
