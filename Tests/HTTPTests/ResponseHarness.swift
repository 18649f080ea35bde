import XCTest

@testable import HTTP

/// What the response parser produced, bodies copied and merged, so runs that split the input
/// differently can be compared. `.end` after the input ran out comes from `finish()`.
enum ResponseOutcome: Equatable, CustomStringConvertible {
    case head(status: Int, framing: ResponseFraming, keepAlive: Bool)
    case body([UInt8])
    case end
    case error(HTTPParseError)

    var description: String {
        switch self {
        case let .head(status, framing, keepAlive): "head(\(status), \(framing), keepAlive: \(keepAlive))"
        case .body(let bytes): "body(\(String(decoding: bytes, as: UTF8.self).debugDescription))"
        case .end: "end"
        case .error(let error): "error(\(error))"
        }
    }
}

/// Feeds a response stream through one reused scratch buffer cut at `cuts`, then reports the
/// close (`finish()`) unless `closes` is false, as the client does when the server closes.
enum ResponseFeeder {
    static func run(_ input: [UInt8], cuts: [Int], methods: [HTTPMethod], closes: Bool) -> [ResponseOutcome] {
        var parser = ResponseParser()
        var pending = methods[...]
        parser.expectResponse(to: pending.popFirst() ?? .get)
        var outcomes: [ResponseOutcome] = []
        func record(_ event: ResponseParser.Event) -> Bool {
            switch event {
            case .needMore: return false
            case .head(let head): outcomes.append(.head(status: head.status, framing: head.framing, keepAlive: head.keepAlive))
            case .body(let bytes):
                if case .body(let earlier) = outcomes.last {
                    outcomes[outcomes.count - 1] = .body(earlier + Array(bytes))
                } else {
                    outcomes.append(.body(Array(bytes)))
                }
            case .end:
                outcomes.append(.end)
                parser.expectResponse(to: pending.popFirst() ?? .get)
            case .error(let error):
                outcomes.append(.error(error))
                return false
            }
            return true
        }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(input.count, 1), alignment: 1)
        defer { scratch.deallocate() }
        var start = 0
        for end in cuts + [input.count] {
            let chunk = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<(end - start)])
            input.withUnsafeBytes { chunk.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
            var offset = 0
            while true {
                let output = parser.parse(UnsafeRawBufferPointer(rebasing: chunk[offset...]))
                offset += output.consumed
                if case .error = outcomes.last { return outcomes }
                guard record(output.event) else { break }
            }
            if case .error = outcomes.last { return outcomes }
            chunk.initializeMemory(as: UInt8.self, repeating: 0xEE)
            start = end
        }
        if closes { _ = record(parser.finish()) }
        return outcomes
    }
}

/// Parses `text` whole, split in two at every byte and one byte at a time, fails the test if any
/// run differs from the whole, and returns what the whole produced.
func parseResponses(_ text: String, methods: [HTTPMethod] = [], closes: Bool = true,
                    file: StaticString = #filePath, line: UInt = #line) -> [ResponseOutcome] {
    let input = Array(text.utf8)
    let whole = ResponseFeeder.run(input, cuts: [], methods: methods, closes: closes)
    for cut in Feeder.cutPoints(input.count) {
        let split = ResponseFeeder.run(input, cuts: [cut], methods: methods, closes: closes)
        guard split == whole else { return fail("split at \(cut) gives \(split), whole gives \(whole)") }
    }
    if input.count > 1 {
        let bytewise = ResponseFeeder.run(input, cuts: Array(1..<input.count), methods: methods, closes: closes)
        guard bytewise == whole else { return fail("one byte at a time gives \(bytewise), whole gives \(whole)") }
    }
    return whole
    func fail(_ message: String) -> [ResponseOutcome] {
        XCTFail(message, file: file, line: line)
        return whole
    }
}
