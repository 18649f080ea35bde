import Glibc

/// Gathers a message head (a request's or a response's: `Start` judges the first line), line by
/// line, from input that arrives in arbitrary pieces.
///
/// Each piece up to and including a line's LF is copied into the assembler's own buffer (the
/// caller's read buffer is reused after every call), and the line is judged when its LF arrives.
/// A head that arrives whole, the usual case, is judged in the input and copied once at its end.
/// Judging happens only on complete lines, in a fixed order, so the same bytes get the same answer
/// however they were split. The exceptions are the checks a partial line already allows, and they
/// are made so that they agree with the complete line: the length limits (a prefix over the limit
/// means the line is over it) and the method (see `MethodScan`).
///
/// Generic over `Start` rather than switching on a kind, so the request parser's specialization is
/// the code it was before the response side existed: nothing is added to the server's hot path.
///
/// Lines must end with CRLF. RFC 9112 §2.2 lets a recipient accept a bare LF, but we sit behind a
/// proxy: if it ended a line where we do not, a header it never saw could reach us. So a bare LF
/// is refused, and so is a bare CR (every byte class of the head excludes CR).
///
/// Nothing is allocated per line or per head: the buffer and the field list keep their capacity
/// between requests, and a complete head shares them (copy-on-write) instead of copying them. They
/// are emptied only when the next head's first byte arrives, by which time the last head is
/// usually gone, so the storage is reused in place; a caller that keeps a head past its message
/// keeps the old storage, and the next head gets new storage (one allocation each).
struct HeadAssembler<Start: StartLineRules>: Sendable {
    enum Outcome {
        case needMore
        case complete(Start.Head)
        case error(HTTPParseError)
    }

    let limits: RequestParser.Limits
    private var buffer: [UInt8] = []
    /// Where the line being received starts in `buffer`.
    private var lineStart = 0
    private var startLine: Start.Line?
    private var startRules = Start()
    private var emptyLinesSkipped = 0
    /// Bytes of the complete field lines so far, CRLFs included.
    private var fieldBytes = 0
    private var fields: [FieldRange] = []
    private var facts = FieldFacts()
    /// `buffer` and `fields` still hold the last complete head (shared with it): empty them
    /// before the next byte is taken. `lineStart` is at the buffer's end meanwhile.
    private var holdsLastHead = false

    init(limits: RequestParser.Limits) {
        self.limits = limits
        buffer.reserveCapacity(1024)
        fields.reserveCapacity(16)
    }

    /// Whether any byte of a request line or field has arrived (empty lines before a request do
    /// not count: they are what some clients send after a body).
    var hasPartialHead: Bool { startLine != nil || buffer.count > lineStart }

    /// Consumes `bytes` up to the end of the head, or all of them if the head is not complete.
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, outcome: Outcome) {
        guard let base = bytes.baseAddress else { return (0, .needMore) }
        if startLine == nil && buffer.count == lineStart, let done = feedWholeHead(bytes) { return done }
        var position = 0
        while position < bytes.count {
            let remaining = bytes.count - position
            guard let lf = memchr(base + position, CInt(UInt8.lf), remaining) else {
                let error = take(UnsafeRawBufferPointer(start: base + position, count: remaining), endsLine: false)
                return (bytes.count, error.map(Outcome.error) ?? .needMore)
            }
            let end = base.distance(to: UnsafeRawPointer(lf)) + 1
            let piece = UnsafeRawBufferPointer(start: base + position, count: end - position)
            position = end
            if let error = take(piece, endsLine: true) { return (position, .error(error)) }
            switch completeLine() {
            case .needMore:
                continue
            case .complete(let completed):
                reset()
                return (position, .complete(completed))
            case .error(let error):
                return (position, .error(error))
            }
        }
        return (bytes.count, .needMore)
    }

    /// The usual case, a head that arrives whole: its lines are judged where they lie in `bytes`,
    /// in one pass, and the head is copied once, when its empty line is found. Nil, with what was
    /// judged forgotten, when the head does not end within `bytes` or is long enough that a line of
    /// it might break a length limit: then `feed` takes it line by line, and every line gets the same
    /// judgement either way (no limit can be reached below `limit`, so what `take` checks per
    /// piece cannot fail here).
    ///
    /// Called only when nothing of a head is in the buffer. The buffer is emptied first, so an
    /// offset into `bytes` is the same offset in the buffer. Not taken after empty lines that came
    /// in an earlier read (rare): they stay in the buffer, before the head, as line by line.
    private mutating func feedWholeHead(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, outcome: Outcome)? {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return nil }
        // The last head's bytes are overwritten by this one's at its end (one call, not two).
        let replacesLastHead = holdsLastHead
        if holdsLastHead { dropLastHead(keepingBytes: true) }
        guard lineStart == 0 else { return nil }
        let emptyLinesBefore = emptyLinesSkipped
        let limit = min(bytes.count, Start.maxLineLength(limits), limits.maxHeaderBlockLength)
        while lineStart < limit, let lf = memchr(base + lineStart, CInt(UInt8.lf), limit - lineStart) {
            let head = UnsafeRawBufferPointer(rebasing: bytes[..<(base.distance(to: UnsafeRawPointer(lf)) + 1)])
            switch judgeLine(head) {
            case .needMore:
                continue
            case .headEnds:
                if replacesLastHead {
                    head.withMemoryRebound(to: UInt8.self) { buffer.replaceSubrange(buffer.indices, with: $0) }
                } else {
                    append(head)
                }
                let outcome = finish()
                if case .complete = outcome { reset() }
                return (head.count, outcome)
            case .error(let error):
                if replacesLastHead { buffer.removeAll(keepingCapacity: true) }
                return (head.count, .error(error))
            }
        }
        if replacesLastHead { buffer.removeAll(keepingCapacity: true) }
        if lineStart > 0 {
            // Lines were judged, but the head goes on past `limit`: forget them.
            startLine = nil
            startRules = Start()
            emptyLinesSkipped = emptyLinesBefore
            fieldBytes = 0
            fields.removeAll(keepingCapacity: true)
            facts = FieldFacts()
            lineStart = 0
        }
        return nil
    }

    /// Appends a piece of the current line, refusing it if the line or the header section is
    /// already over its limit, so the buffer stays bounded whatever the client sends.
    private mutating func take(_ piece: UnsafeRawBufferPointer, endsLine: Bool) -> HTTPParseError? {
        if holdsLastHead { dropLastHead() }
        let lineLength = buffer.count - lineStart
        guard startLine == nil else {
            if fieldBytes + lineLength + piece.count > limits.maxHeaderBlockLength { return .headerBlockTooLarge }
            append(piece)
            return nil
        }
        // One byte past the limit is enough to know the line is too long.
        let limit = Start.maxLineLength(limits)
        append(UnsafeRawBufferPointer(rebasing: piece.prefix(max(0, limit + 1 - lineLength))))
        let isTooLong = buffer.count - lineStart > limit
        if endsLine && !isTooLong { return nil }  // `completeLine()` judges the whole line.
        if let error = scanStartLine(upTo: min(buffer.count, lineStart + limit)) { return error }
        return isTooLong ? Start.lineTooLong : nil
    }

    private mutating func append(_ piece: UnsafeRawBufferPointer) {
        piece.withMemoryRebound(to: UInt8.self) { buffer.append(contentsOf: $0) }
    }

    private mutating func scanStartLine(upTo end: Int) -> HTTPParseError? {
        let head = buffer  // A second reference, so the closure may mutate `self` (but never `buffer`).
        return head.withUnsafeBytes { raw in startRules.scan(raw, lineStart: lineStart, upTo: end) }
    }

    private mutating func completeLine() -> Outcome {
        let head = buffer  // As above: nothing below mutates `buffer`, so this shares, never copies.
        switch head.withUnsafeBytes({ raw in judgeLine(raw) }) {
        case .needMore: return .needMore
        case .headEnds: return finish()
        case .error(let error): return .error(error)
        }
    }

    /// What a complete line means for the head.
    private enum LineOutcome {
        case needMore
        /// The empty line after the fields: the head is complete, to be judged as a whole.
        case headEnds
        case error(HTTPParseError)
    }

    /// Judges the line from `lineStart` to the end of `raw` (its LF): the head's bytes up to there,
    /// in the buffer or (`feedWholeHead`) in the input, at the same offsets.
    private mutating func judgeLine(_ raw: UnsafeRawBufferPointer) -> LineOutcome {
        let lf = raw.count - 1
        let hasCR = lf > lineStart && raw[lf - 1] == .cr
        let contentEnd = hasCR ? lf - 1 : lf
        return startLine == nil
            ? completeStartLine(raw, contentEnd: contentEnd, hasCR: hasCR)
            : completeFieldLine(raw, contentEnd: contentEnd, hasCR: hasCR)
    }

    private mutating func completeStartLine(_ raw: UnsafeRawBufferPointer, contentEnd: Int, hasCR: Bool) -> LineOutcome {
        if contentEnd == lineStart {
            // RFC 9112 §2.2: ignore empty lines before the request line, but not forever.
            guard hasCR else { return .error(.bareLF) }
            emptyLinesSkipped += 1
            guard emptyLinesSkipped <= limits.maxLeadingEmptyLines else { return .error(.tooManyEmptyLines) }
            lineStart = raw.count
            startRules = Start()
            return .needMore
        }
        let end = min(contentEnd, lineStart + Start.maxLineLength(limits))
        if let error = startRules.scan(raw, lineStart: lineStart, upTo: end) { return .error(error) }
        guard hasCR else { return .error(.bareLF) }
        switch startRules.parse(raw, line: lineStart..<contentEnd) {
        case .success(let line):
            startLine = line
            lineStart = raw.count
            return .needMore
        case .failure(let error):
            return .error(error)
        }
    }

    private mutating func completeFieldLine(_ raw: UnsafeRawBufferPointer, contentEnd: Int, hasCR: Bool) -> LineOutcome {
        fieldBytes += raw.count - lineStart  // Within the limit: `take()` checked it.
        guard hasCR else { return .error(.bareLF) }
        if contentEnd == lineStart { return .headEnds }
        guard fields.count < limits.maxHeaderCount else { return .error(.tooManyHeaders) }
        let field: FieldRange
        switch FieldRange.parse(raw, line: lineStart..<contentEnd, isFirst: fields.isEmpty) {
        case .success(let parsed): field = parsed
        case .failure(let error): return .error(error)
        }
        if let error = facts.record(field, index: fields.count, in: raw) { return .error(error) }
        fields.append(field)
        lineStart = raw.count
        return .needMore
    }

    /// The empty line arrived, and the buffer holds the head: judge it as a whole. Its headers share
    /// the buffers, not copy them: `dropLastHead` empties them in place once this head is gone.
    private func finish() -> Outcome {
        guard let startLine else { preconditionFailure("a field line was completed before the start line") }
        let headers = HTTPHeaders(storage: buffer, fields: fields)
        switch Start.head(line: startLine, facts: facts, headers: headers) {
        case .success(let head): return .complete(head)
        case .failure(let error): return .error(error)
        }
    }

    /// Ready for the next message. The buffers still hold the head just completed, shared with
    /// it, until the next message's first byte (`dropLastHead`).
    private mutating func reset() {
        holdsLastHead = true
        lineStart = buffer.count
        startLine = nil
        startRules = Start()
        emptyLinesSkipped = 0
        fieldBytes = 0
        facts = FieldFacts()
    }

    /// Empties the buffers that the last head shared, keeping their capacity: in place when that
    /// head is gone, else (its holder kept it) into new storage, leaving the head its own.
    /// `keepingBytes`: the caller replaces the buffer's bytes itself.
    private mutating func dropLastHead(keepingBytes: Bool = false) {
        holdsLastHead = false
        if !keepingBytes { buffer.removeAll(keepingCapacity: true) }
        fields.removeAll(keepingCapacity: true)
        lineStart = 0
    }
}
