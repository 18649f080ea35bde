import XCTest

@testable import HTTP

/// What the parser produced, with body bytes copied and adjacent body slices merged, so runs that
/// split the input differently can be compared.
enum Outcome: Equatable, CustomStringConvertible {
    case head(RequestHead)
    case body([UInt8])
    case end
    case error(HTTPParseError)

    var description: String {
        switch self {
        case .head(let head): "head(\(head.method) \(head.target) \(head.version), \(head.headers.count) fields, \(head.framing))"
        case .body(let bytes): "body(\(String(decoding: bytes, as: UTF8.self).debugDescription))"
        case .end: "end"
        case .error(let error): "error(\(error))"
        }
    }
}

/// Feeds input to a parser the way the worker will: in chunks, through one read buffer that is
/// overwritten after every call, so a parser that kept a pointer into it would produce garbage.
enum Feeder {
    /// Parses `input` cut at `cuts` (increasing offsets strictly inside it), until a closing error.
    static func run(_ input: [UInt8], cuts: [Int], limits: RequestParser.Limits = .init()) -> [Outcome] {
        var parser = RequestParser(limits: limits)
        var outcomes: [Outcome] = []
        let largest = zip([0] + cuts, cuts + [input.count]).map { $1 - $0 }.max() ?? 0
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(largest, 1), alignment: 1)
        defer { scratch.deallocate() }
        var start = 0
        for end in cuts + [input.count] {
            let count = end - start
            let chunk = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<count])
            input.withUnsafeBytes { chunk.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
            defer {
                chunk.initializeMemory(as: UInt8.self, repeating: 0xEE)
                start = end
            }
            var offset = 0
            for _ in 0..<10_000 {
                let bytes = UnsafeRawBufferPointer(rebasing: chunk[offset..<count])
                let output = parser.parse(bytes)
                guard output.consumed >= 0 && output.consumed <= bytes.count else {
                    XCTFail("consumed \(output.consumed) of \(bytes.count)")
                    return outcomes
                }
                offset += output.consumed
                switch output.event {
                case .needMore:
                    XCTAssertEqual(offset, count, "needMore with input left")
                case .head(let head):
                    outcomes.append(.head(head))
                case .body(let body):
                    XCTAssertFalse(body.isEmpty, "empty body event")
                    let consumedRange = bytes.baseAddress.map { $0..<($0 + output.consumed) }
                    let bodyRange = body.baseAddress.map { $0..<($0 + body.count) }
                    XCTAssertTrue(bodyRange.flatMap { body in consumedRange.map { $0.clamped(to: body) == body } } ?? false,
                                  "body outside the bytes consumed with it")
                    if case .body(let earlier) = outcomes.last {
                        outcomes[outcomes.count - 1] = .body(earlier + Array(body))
                    } else {
                        outcomes.append(.body(Array(body)))
                    }
                case .end:
                    outcomes.append(.end)
                case .error(let error):
                    outcomes.append(.error(error))
                    if error.closesConnection { return outcomes }
                }
                if case .needMore = output.event { break }
            }
        }
        return outcomes
    }

    /// Where to cut `count` bytes in two: everywhere, or for long inputs (the limit tests) every
    /// cut near both ends and a stride through the middle; every cut of a 33 KB head would take
    /// seconds in a debug build, and the one-byte-at-a-time run covers every boundary anyway.
    static func cutPoints(_ count: Int) -> [Int] {
        guard count > 1 else { return [] }
        guard count > 2_000 else { return Array(1..<count) }
        let (ends, step) = count > 8_000 ? (100, 499) : (600, 37)
        return Array(1...ends) + Array(stride(from: ends + 1, to: count - ends, by: step)) + Array((count - ends)..<count)
    }
}

/// Parses `input` whole, split in two at every byte, and one byte at a time; fails the test if any
/// of them differs from the whole, and returns what the whole produced.
func parse(_ input: [UInt8], limits: RequestParser.Limits = .init(), file: StaticString = #filePath, line: UInt = #line) -> [Outcome] {
    let whole = Feeder.run(input, cuts: [], limits: limits)
    for cut in Feeder.cutPoints(input.count) {
        let split = Feeder.run(input, cuts: [cut], limits: limits)
        guard split == whole else {
            XCTFail("split at \(cut) gives \(split), whole gives \(whole)", file: file, line: line)
            break
        }
    }
    if input.count > 1 {
        let bytewise = Feeder.run(input, cuts: Array(1..<input.count), limits: limits)
        XCTAssertEqual(bytewise, whole, "one byte at a time", file: file, line: line)
    }
    return whole
}

func parse(_ text: String, limits: RequestParser.Limits = .init(), file: StaticString = #filePath, line: UInt = #line) -> [Outcome] {
    parse(Array(text.utf8), limits: limits, file: file, line: line)
}

/// The head of a request that must parse as exactly one body-less request.
func head(_ text: String, limits: RequestParser.Limits = .init(), file: StaticString = #filePath, line: UInt = #line) -> RequestHead? {
    let outcomes = parse(text, limits: limits, file: file, line: line)
    guard outcomes.count == 2, case .head(let head) = outcomes[0], outcomes[1] == .end else {
        XCTFail("expected head and end, got \(outcomes)", file: file, line: line)
        return nil
    }
    return head
}

/// Asserts that `input` ends in `expected`, whatever came before it.
func assertRejects(_ input: [UInt8], _ expected: HTTPParseError, limits: RequestParser.Limits = .init(),
                   file: StaticString = #filePath, line: UInt = #line) {
    let outcomes = parse(input, limits: limits, file: file, line: line)
    XCTAssertEqual(outcomes.last, .error(expected), "\(String(decoding: input, as: UTF8.self).debugDescription)", file: file, line: line)
}

func assertRejects(_ text: String, _ expected: HTTPParseError, limits: RequestParser.Limits = .init(),
                   file: StaticString = #filePath, line: UInt = #line) {
    assertRejects(Array(text.utf8), expected, limits: limits, file: file, line: line)
}

/// `head` and a body, then end: the events of one request with a body.
func body(of outcomes: [Outcome]) -> [UInt8]? {
    guard outcomes.count == 3, case .head = outcomes[0], case .body(let bytes) = outcomes[1], outcomes[2] == .end else { return nil }
    return bytes
}
