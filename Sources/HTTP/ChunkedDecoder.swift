/// Decodes a chunked body (RFC 9112 §7.1) byte by byte across calls, handing out chunk data as
/// slices of the input, never copied.
///
/// Framing bytes (size lines, CRLFs, trailers) go through a small state machine that keeps no
/// bytes, only counts; data bytes are passed through in bulk. Strict where leniency has been
/// exploited for smuggling: the size is one or more hex digits and nothing else (no sign, no `0x`,
/// no leading whitespace); whitespace after it is allowed only before a `;` extension (BWS);
/// every line ends with CRLF; chunk data must be followed by CRLF exactly. Extensions are checked
/// for control bytes and skipped; trailer fields are checked like header fields and discarded.
struct ChunkedDecoder: Sendable {
    enum Output {
        case needMore
        /// A non-empty slice of the input: chunk data.
        case data(UnsafeRawBufferPointer)
        /// The last chunk and the trailer section were consumed.
        case end
        case error(HTTPParseError)
    }

    private enum State: Sendable {
        case size, sizeWhitespace, chunkExtension, sizeLF
        case data, dataCR, dataLF
        case trailerLineStart, trailerName, trailerValue, trailerLF, finalLF
        case done
    }

    private let maxBodyLength: Int
    private let maxLineLength: Int
    private let maxTrailerLength: Int
    private var state = State.size
    /// On a size line, the size read so far; in data, the bytes of the chunk still to come.
    private var chunkSize = 0
    private var digits = 0
    private var lineLength = 0
    private var bodyLength = 0
    private var trailerLength = 0

    init(limits: RequestParser.Limits) {
        maxBodyLength = limits.maxBodyLength
        maxLineLength = limits.maxChunkLineLength
        maxTrailerLength = limits.maxTrailerBlockLength
    }

    /// Consumes framing bytes until it has data to hand out, the body ends, the input runs out or
    /// the input is invalid.
    mutating func decode(_ bytes: UnsafeRawBufferPointer) -> (consumed: Int, output: Output) {
        var index = 0
        while index < bytes.count {
            if case .data = state {
                let count = min(chunkSize, bytes.count - index)
                chunkSize -= count
                if chunkSize == 0 { state = .dataCR }
                return (index + count, .data(UnsafeRawBufferPointer(rebasing: bytes[index..<(index + count)])))
            }
            let byte = bytes[index]
            index += 1
            if let error = step(byte) { return (index, .error(error)) }
            if case .done = state { return (index, .end) }
        }
        return (bytes.count, .needMore)
    }

    private mutating func step(_ byte: UInt8) -> HTTPParseError? {
        switch state {
        case .size:
            if let digit = byte.hexValue {
                guard chunkSize <= Int.max >> 4 else { return .chunkSizeOverflow }
                chunkSize = chunkSize << 4 | digit
                digits += 1
                return countLineByte()
            }
            guard digits > 0 else { return .invalidChunkSize }
            switch byte {
            case .cr: state = .sizeLF
            case .semicolon: state = .chunkExtension
            case .space, .tab: state = .sizeWhitespace
            case .lf: return .bareLF
            default: return .invalidChunkSize
            }
            return byte == .cr ? nil : countLineByte()
        case .sizeWhitespace:
            switch byte {
            case .space, .tab: break
            case .semicolon: state = .chunkExtension
            default: return .invalidChunkSize
            }
            return countLineByte()
        case .chunkExtension:
            if byte == .cr {
                state = .sizeLF
                return nil
            }
            guard byte.isFieldValueChar else { return .invalidChunkExtension }
            return countLineByte()
        case .sizeLF:
            guard byte == .lf else { return .bareCR }
            return startChunk()
        case .data:
            preconditionFailure("chunk data is handed out in bulk, never stepped through")
        case .dataCR:
            guard byte == .cr else { return .missingChunkDataCRLF }
            state = .dataLF
        case .dataLF:
            guard byte == .lf else { return .missingChunkDataCRLF }
            state = .size
        case .trailerLineStart, .trailerName, .trailerValue, .trailerLF, .finalLF:
            return stepTrailer(byte)
        case .done:
            preconditionFailure("the chunked body already ended")
        }
        return nil
    }

    /// A size line ended: the last chunk leads to the trailers, any other to its data, unless it
    /// would take the body past its limit (known before a byte of the chunk is read).
    private mutating func startChunk() -> HTTPParseError? {
        digits = 0
        lineLength = 0
        guard chunkSize > 0 else {
            state = .trailerLineStart
            return nil
        }
        guard chunkSize <= maxBodyLength - bodyLength else { return .bodyTooLarge }
        bodyLength += chunkSize
        state = .data
        return nil
    }

    private mutating func countLineByte() -> HTTPParseError? {
        lineLength += 1
        return lineLength > maxLineLength ? .chunkLineTooLong : nil
    }

    /// `trailer-section = *( field-line CRLF )`, then CRLF. Each line is checked like a header
    /// field (token name, colon with no whitespace before it, value without controls, no folding).
    private mutating func stepTrailer(_ byte: UInt8) -> HTTPParseError? {
        trailerLength += 1
        guard trailerLength <= maxTrailerLength else { return .trailerBlockTooLarge }
        switch state {
        case .trailerLineStart:
            if byte == .cr {
                state = .finalLF
            } else if byte.isTokenChar {
                state = .trailerName
            } else {
                return .invalidTrailer
            }
        case .trailerName:
            if byte == .colon {
                state = .trailerValue
            } else if !byte.isTokenChar {
                return .invalidTrailer
            }
        case .trailerValue:
            if byte == .cr {
                state = .trailerLF
            } else if !byte.isFieldValueChar {
                return .invalidTrailer
            }
        case .trailerLF:
            guard byte == .lf else { return .bareCR }
            state = .trailerLineStart
        case .finalLF:
            guard byte == .lf else { return .bareCR }
            state = .done
        default:
            preconditionFailure("not in the trailer section")
        }
        return nil
    }
}
