// libFuzzer target: ChunkedDecoder (compiled into module HTTP with its sources by scripts/fuzz).
//
// The input is a chunked body. It is decoded whole, cut at random places and one byte at a time,
// under the default limits and under tight ones, and compared with a reference decoder written
// here from the grammar (RFC 9112 §7.1 with the decoder's documented strictness): the same data,
// the same verdict (complete, needs more, invalid) and, when complete, the same length consumed.

enum FuzzChunked: Equatable, CustomStringConvertible {
    case complete(data: [UInt8], consumed: Int)
    case incomplete(data: [UInt8])
    case invalid(data: [UInt8])

    var description: String {
        switch self {
        case let .complete(data, consumed): "complete(\(fuzzShow(data)), consumed \(consumed))"
        case let .incomplete(data): "incomplete(\(fuzzShow(data)))"
        case let .invalid(data): "invalid(\(fuzzShow(data)))"
        }
    }
}

private func decode(_ input: UnsafeRawBufferPointer, cuts: [Int], limits: RequestParser.Limits) -> FuzzChunked {
    var decoder = ChunkedDecoder(limits: limits)
    var data: [UInt8] = []
    var total = 0
    var verdict: FuzzChunked?
    fuzzPieces(input, cuts: cuts) { piece in
        var offset = 0
        while true {
            let bytes = UnsafeRawBufferPointer(rebasing: piece[offset...])
            let (consumed, output) = decoder.decode(bytes)
            fuzzCheck(consumed >= 0 && consumed <= bytes.count, "consumed \(consumed) of \(bytes.count)")
            offset += consumed
            total += consumed
            switch output {
            case .needMore:
                fuzzCheck(offset == piece.count, "needMore with \(piece.count - offset) bytes left")
                return true
            case .data(let slice):
                fuzzCheck(!slice.isEmpty, "empty data")
                let start = UInt(bitPattern: bytes.baseAddress!)
                let at = UInt(bitPattern: slice.baseAddress!)
                fuzzCheck(at >= start && at + UInt(slice.count) <= start + UInt(consumed), "data outside the bytes consumed with it")
                data += slice
                fuzzCheck(data.count <= limits.maxBodyLength, "\(data.count) bytes of data, limit \(limits.maxBodyLength)")
            case .end:
                verdict = .complete(data: data, consumed: total)
                return false
            case .error:
                verdict = .invalid(data: data)
                return false
            }
        }
    }
    return verdict ?? .incomplete(data: data)
}

/// The grammar, on the whole input at once: `*( chunk-size [ chunk-ext ] CRLF chunk-data CRLF )
/// "0" [ chunk-ext ] CRLF *( field-line CRLF ) CRLF`, where the size is hex digits only, blanks
/// may follow it only before a `;`, an extension is any field-value bytes, and a trailer line is
/// a token, a colon and field-value bytes. Limits: a size line (CR excluded) of at most
/// `maxChunkLineLength` bytes, a trailer section (final CRLF included) of at most
/// `maxTrailerBlockLength`, and a body of at most `maxBodyLength`, judged when a size line ends.
private func reference(_ b: UnsafeRawBufferPointer, limits: RequestParser.Limits) -> FuzzChunked {
    func isHex(_ c: UInt8) -> Bool { (48...57).contains(c) || (65...70).contains(c) || (97...102).contains(c) }
    func hex(_ c: UInt8) -> Int { c <= 57 ? Int(c) - 48 : (Int(c) | 0x20) - 87 }
    func isValueByte(_ c: UInt8) -> Bool { c == 9 || (c >= 32 && c != 127) }
    func isToken(_ c: UInt8) -> Bool {
        if (48...57).contains(c) || (65...90).contains(c) || (97...122).contains(c) { return true }
        return Array("!#$%&'*+-.^_`|~".utf8).contains(c)
    }
    var data: [UInt8] = []
    var i = 0
    let n = b.count
    var body = 0
    while true {
        // chunk-size [ BWS ";" ext ] CRLF
        var size = 0
        var digits = 0
        var line = 0
        func count() -> Bool { line += 1; return line <= limits.maxChunkLineLength }
        while i < n, isHex(b[i]) {
            let (shifted, o1) = size.multipliedReportingOverflow(by: 16)
            let (next, o2) = shifted.addingReportingOverflow(hex(b[i]))
            if o1 || o2 { return .invalid(data: data) }
            size = next
            digits += 1
            i += 1
            if !count() { return .invalid(data: data) }
        }
        if i == n { return .incomplete(data: data) }
        if digits == 0 { return .invalid(data: data) }
        var blanks = false
        while i < n, b[i] == 32 || b[i] == 9 {
            blanks = true
            i += 1
            if !count() { return .invalid(data: data) }
        }
        if i == n { return .incomplete(data: data) }
        if b[i] == 59 {  // ;
            i += 1
            if !count() { return .invalid(data: data) }
            while i < n, b[i] != 13 {
                guard isValueByte(b[i]) else { return .invalid(data: data) }
                i += 1
                if !count() { return .invalid(data: data) }
            }
        } else if blanks {
            return .invalid(data: data)
        }
        if i == n { return .incomplete(data: data) }
        guard b[i] == 13 else { return .invalid(data: data) }
        i += 1
        if i == n { return .incomplete(data: data) }
        guard b[i] == 10 else { return .invalid(data: data) }
        i += 1
        if size == 0 { break }
        guard size <= limits.maxBodyLength - body else { return .invalid(data: data) }
        body += size
        // chunk-data CRLF
        let available = min(size, n - i)
        data += UnsafeRawBufferPointer(rebasing: b[i..<(i + available)])
        i += available
        if available < size || i == n { return .incomplete(data: data) }
        guard b[i] == 13 else { return .invalid(data: data) }
        i += 1
        if i == n { return .incomplete(data: data) }
        guard b[i] == 10 else { return .invalid(data: data) }
        i += 1
    }
    // trailer-section CRLF
    let trailerStart = i
    func within() -> Bool { i - trailerStart <= limits.maxTrailerBlockLength }
    while true {
        if i == n { return .incomplete(data: data) }
        if b[i] == 13 {
            i += 1
            guard within() else { return .invalid(data: data) }
            if i == n { return .incomplete(data: data) }
            guard b[i] == 10 else { return .invalid(data: data) }
            i += 1
            guard within() else { return .invalid(data: data) }
            return .complete(data: data, consumed: i)
        }
        var name = 0
        while i < n, isToken(b[i]) {
            name += 1
            i += 1
            guard within() else { return .invalid(data: data) }
        }
        if i == n { return .incomplete(data: data) }
        guard name > 0, b[i] == 58 else { return .invalid(data: data) }
        i += 1
        guard within() else { return .invalid(data: data) }
        while i < n, b[i] != 13 {
            guard isValueByte(b[i]) else { return .invalid(data: data) }
            i += 1
            guard within() else { return .invalid(data: data) }
        }
        if i == n { return .incomplete(data: data) }
        i += 1
        guard within() else { return .invalid(data: data) }
        if i == n { return .incomplete(data: data) }
        guard b[i] == 10 else { return .invalid(data: data) }
        i += 1
        guard within() else { return .invalid(data: data) }
    }
}

private let tight = RequestParser.Limits(maxBodyLength: 64, maxChunkLineLength: 8, maxTrailerBlockLength: 16)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChunkedDecoder(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    var random = SeededGenerator(state: fuzzSeed(input))
    for limits in [RequestParser.Limits(), tight] {
        let whole = decode(input, cuts: [], limits: limits)
        let expected = reference(input, limits: limits)
        fuzzCheck(whole == expected, "decoder: \(whole)\nreference: \(expected)")
        let cuts = fuzzCuts(input.count, maximum: 8, &random)
        let split = decode(input, cuts: cuts, limits: limits)
        fuzzCheck(split == whole, "cut at \(cuts): \(split)\nwhole: \(whole)")
        if input.count > 1 && input.count <= 4096 {
            let bytewise = decode(input, cuts: Array(1..<input.count), limits: limits)
            fuzzCheck(bytewise == whole, "one byte at a time: \(bytewise)\nwhole: \(whole)")
        }
    }
    return 0
}
