// libFuzzer target: RequestParser (compiled into module HTTP with its sources by scripts/fuzz).
//
// Each input is parsed whole, cut at random places, and one byte at a time, under the default
// limits and under tight ones, each piece in its own freed-after buffer. Checked: every call
// consumes at most what it was given; `.needMore` only with the input used up; body slices are
// non-empty and inside the bytes consumed with them; events follow head, body*, end (or an error);
// a closing error is final; a Content-Length body is exactly that long; no call sequence stalls;
// and every way of cutting the input gives the same events.

enum FuzzEvent: Equatable, CustomStringConvertible {
    case head(RequestHead)
    case body([UInt8])
    case end
    case error(HTTPParseError)

    var description: String {
        switch self {
        case .head(let head): "head(\(head.method) \(head.target) \(head.version) \(head.headers.count) fields \(head.framing) keepAlive=\(head.keepAlive))"
        case .body(let bytes): "body(\(fuzzShow(bytes)))"
        case .end: "end"
        case .error(let error): "error(\(error))"
        }
    }
}

/// Which events may come next.
private enum Expecting {
    case head
    /// After a head: body slices, then end. `length` is the Content-Length, if any.
    case body(length: Int?, received: Int)
    /// After a 417 that keeps the connection: the body is skipped silently, then end.
    case skippedBody
    case closed
}

private func run(_ input: UnsafeRawBufferPointer, cuts: [Int], limits: RequestParser.Limits) -> [FuzzEvent] {
    var parser = RequestParser(limits: limits)
    var events: [FuzzEvent] = []
    var expecting = Expecting.head
    fuzzPieces(input, cuts: cuts) { piece in
        var offset = 0
        var idleCalls = 0
        while true {
            let bytes = UnsafeRawBufferPointer(rebasing: piece[offset...])
            let output = parser.parse(bytes)
            fuzzCheck(output.consumed >= 0 && output.consumed <= bytes.count, "consumed \(output.consumed) of \(bytes.count)")
            offset += output.consumed
            idleCalls = output.consumed == 0 ? idleCalls + 1 : 0
            fuzzCheck(idleCalls <= 2, "no progress: \(idleCalls) calls in a row consumed nothing, after \(events)")
            switch output.event {
            case .needMore:
                fuzzCheck(offset == piece.count, "needMore with \(piece.count - offset) bytes left")
                return true
            case .head(let head):
                guard case .head = expecting else { fuzzCheck(false, "head while expecting \(expecting): \(events)"); return false }
                fuzzCheck(head.headers.count <= limits.maxHeaderCount, "\(head.headers.count) fields")
                fuzzCheck(!head.target.isEmpty, "empty target")
                // Every accessor works on whatever was accepted.
                _ = head.host
                for field in head.headers { fuzzCheck(!field.name.isEmpty, "empty field name") }
                switch head.framing {
                case .contentLength(let length):
                    fuzzCheck(length >= 0 && length <= limits.maxBodyLength, "Content-Length \(length) accepted")
                    expecting = .body(length: length, received: 0)
                default:
                    expecting = .body(length: nil, received: 0)
                }
                events.append(.head(head))
            case .body(let body):
                fuzzCheck(!body.isEmpty, "empty body event")
                let start = bytes.baseAddress.map { UInt(bitPattern: $0) } ?? 0
                let slice = body.baseAddress.map { UInt(bitPattern: $0) } ?? 0
                fuzzCheck(slice >= start && slice + UInt(body.count) <= start + UInt(output.consumed), "body slice outside the bytes consumed with it")
                guard case .body(let length, let received) = expecting else {
                    fuzzCheck(false, "body while expecting \(expecting): \(events)")
                    return false
                }
                let total = received + body.count
                fuzzCheck(total <= length ?? limits.maxBodyLength, "body of \(total) bytes, limit \(length ?? limits.maxBodyLength)")
                expecting = .body(length: length, received: total)
                if case .body(let earlier) = events.last {
                    events[events.count - 1] = .body(earlier + Array(body))
                } else {
                    events.append(.body(Array(body)))
                }
            case .end:
                switch expecting {
                case .body(let length, let received):
                    fuzzCheck(length == nil || length == received, "end after \(received) of \(length ?? -1) body bytes")
                case .skippedBody: break
                default: fuzzCheck(false, "end while expecting \(expecting): \(events)")
                }
                fuzzCheck(parser.isIdle, "not idle right after end")
                expecting = .head
                events.append(.end)
            case .error(let error):
                events.append(.error(error))
                if error.closesConnection {
                    // Final: every later call repeats it and consumes nothing.
                    let again = parser.parse(UnsafeRawBufferPointer(rebasing: piece[offset...]))
                    fuzzCheck(again.consumed == 0, "consumed \(again.consumed) after a closing error")
                    if case .error(let repeated) = again.event { fuzzCheck(repeated == error, "\(repeated) after \(error)") }
                    else { fuzzCheck(false, "\(again.event) after the closing error \(error)") }
                    expecting = .closed
                    return false
                }
                guard case .head = expecting else { fuzzCheck(false, "non-closing \(error) while expecting \(expecting)"); return false }
                fuzzCheck(error.code == 417, "non-closing error \(error)")
                expecting = .skippedBody
            }
        }
    }
    return events
}

private let tight = RequestParser.Limits(maxRequestLineLength: 40, maxHeaderBlockLength: 90, maxHeaderCount: 3, maxBodyLength: 8,
                                         maxChunkLineLength: 8, maxTrailerBlockLength: 12, maxLeadingEmptyLines: 1)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    var random = SeededGenerator(state: fuzzSeed(input))
    for limits in [RequestParser.Limits(), tight] {
        let whole = run(input, cuts: [], limits: limits)
        let cuts = fuzzCuts(input.count, maximum: 8, &random)
        let split = run(input, cuts: cuts, limits: limits)
        fuzzCheck(split == whole, "cut at \(cuts): \(split)\nwhole: \(whole)")
        if input.count > 1 && input.count <= 4096 {
            let bytewise = run(input, cuts: Array(1..<input.count), limits: limits)
            fuzzCheck(bytewise == whole, "one byte at a time: \(bytewise)\nwhole: \(whole)")
        }
    }
    return 0
}
