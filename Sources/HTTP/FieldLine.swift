extension FieldRange {
    /// Parses `field-name ":" OWS field-value OWS` (RFC 9112 §5) from a line without its CRLF.
    ///
    /// A line starting with whitespace is refused rather than folded into the previous value or
    /// skipped (obs-fold, RFC 9112 §5.2), as is whitespace between name and colon (§5.1): both are
    /// classic request-smuggling vectors when a proxy reads them differently. Every byte of the
    /// value is checked, so NUL, bare CR and other controls never reach a handler.
    /// Inlined into the field-line loop: called, it cost ~45 instructions a line more (callgrind).
    @inline(__always)
    static func parse(_ raw: UnsafeRawBufferPointer, line: Range<Int>, isFirst: Bool) -> Result<FieldRange, HTTPParseError> {
        if raw[line.lowerBound].isWhitespace {
            return .failure(isFirst ? .whitespaceBeforeFirstField : .obsoleteLineFolding)
        }
        var colon = line.lowerBound
        while colon < line.upperBound && raw[colon] != .colon {
            let byte = raw[colon]
            guard byte.isTokenChar else { return .failure(byte.isWhitespace ? .whitespaceInFieldName : .invalidFieldName) }
            colon += 1
        }
        guard colon < line.upperBound else { return .failure(.missingColon) }
        guard colon > line.lowerBound else { return .failure(.emptyFieldName) }
        let rawValue = (colon + 1)..<line.upperBound
        guard raw.allFieldValueChars(rawValue) else { return .failure(.invalidFieldValue) }
        return .success(FieldRange(name: line.lowerBound..<colon, value: raw.trimmingWhitespace(rawValue)))
    }
}
