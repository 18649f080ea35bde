import XCTest

@testable import HTTP

/// Several requests on one connection, sent without waiting (RFC 9112 §9.3.2): each comes out whole,
/// in order, and the bytes after one request are the next one's.
final class PipeliningTests: XCTestCase {
    func targets(_ outcomes: [Outcome]) -> [String] {
        outcomes.compactMap { if case .head(let head) = $0 { head.target } else { nil } }
    }

    func testRequestsInOneChunkComeOutInOrder() {
        let outcomes = parse((1...3).map { "GET /\($0) HTTP/1.1\r\nHost: a\r\n\r\n" }.joined())
        XCTAssertEqual(targets(outcomes), ["/1", "/2", "/3"])
        XCTAssertEqual(outcomes.count, 6)
        XCTAssertEqual(outcomes.filter { $0 == .end }.count, 3)
    }

    func testMixedFramingsInOneStream() {
        let stream = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
            + "POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
            + "\r\n"  // A stray CRLF after a body, as old clients send: skipped.
            + "PUT /3 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"
            + "GET /4 HTTP/1.0\r\n\r\n"
        let outcomes = parse(stream)
        XCTAssertEqual(targets(outcomes), ["/1", "/2", "/3", "/4"])
        let bodies = outcomes.compactMap { if case .body(let bytes) = $0 { String(decoding: bytes, as: UTF8.self) } else { nil } }
        XCTAssertEqual(bodies, ["abc", "de"])
        XCTAssertEqual(outcomes.last, .end)
        XCTAssertEqual(outcomes.count, 10)
    }

    func testLeftoverBytesAreReportedThroughConsumed() {
        let first = "POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
        let second = "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
        let stream = Array((first + second).utf8)
        var parser = RequestParser()
        stream.withUnsafeBytes { raw in
            var offset = 0
            var events: [String] = []
            while true {
                let output = parser.parse(UnsafeRawBufferPointer(rebasing: raw[offset...]))
                offset += output.consumed
                switch output.event {
                case .head(let head): events.append("head \(head.target) at \(offset)")
                case .body(let bytes): events.append("body \(bytes.count) at \(offset)")
                case .end: events.append("end at \(offset)")
                case .needMore: events.append("needMore at \(offset)")
                case .error(let error): events.append("error \(error)")
                }
                if case .needMore = output.event { break }
                if case .error = output.event { break }
            }
            let headEnd = first.utf8.count - 2
            XCTAssertEqual(events, [
                "head /1 at \(headEnd)", "body 2 at \(first.utf8.count)", "end at \(first.utf8.count)",
                "head /2 at \(stream.count)", "end at \(stream.count)", "needMore at \(stream.count)",
            ])
        }
    }

    func testIsIdleOnlyBetweenRequests() {
        var parser = RequestParser()
        XCTAssertTrue(parser.isIdle)
        func feed(_ text: String) -> RequestParser.Event {
            Array(text.utf8).withUnsafeBytes { parser.parse($0) }.event
        }
        _ = feed("\r\n")
        XCTAssertTrue(parser.isIdle, "an empty line is not a request")
        _ = feed("G")
        XCTAssertFalse(parser.isIdle)
        _ = feed("ET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n")
        XCTAssertFalse(parser.isIdle)
        _ = feed("x")
        XCTAssertFalse(parser.isIdle, "the end is not reported yet")
        guard case .end = feed("") else { return XCTFail("no end") }
        XCTAssertTrue(parser.isIdle)
    }

    func testAfterAClosingErrorTheParserStaysFailed() {
        var parser = RequestParser()
        let bad = Array("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".utf8).withUnsafeBytes { parser.parse($0) }
        guard case .error(let error) = bad.event else { return XCTFail("\(bad.event)") }
        XCTAssertEqual(error, .multipleHosts)
        let next = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8).withUnsafeBytes { parser.parse($0) }
        XCTAssertEqual(next.consumed, 0)
        guard case .error(.multipleHosts) = next.event else { return XCTFail("\(next.event)") }
        XCTAssertFalse(parser.isIdle)
    }

    func testAnErrorInTheSecondRequestComesAfterTheFirstIsComplete() {
        let outcomes = parse("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(targets(outcomes), ["/1"])
        XCTAssertEqual(Array(outcomes.dropFirst()), [.end, .error(.missingHost)])
    }
}

/// A head shares the parser's buffers until the next head begins (no copy per request): a head
/// kept while later ones are parsed keeps its own fields, and one let go is not disturbed either.
final class SharedHeadStorageTests: XCTestCase {
    func testAKeptHeadKeepsItsFieldsWhileLaterHeadsAreParsed() {
        var parser = RequestParser()
        var kept: [RequestHead] = []
        for index in 1...4 {
            let request = Array("GET /\(index) HTTP/1.1\r\nHost: h\(index)\r\nX-Index: \(String(repeating: "v", count: index))\r\n\r\n".utf8)
            request.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let output = parser.parse(UnsafeRawBufferPointer(rebasing: raw[offset...]))
                    offset += output.consumed
                    if case .head(let head) = output.event, index % 2 == 1 { kept.append(head) }
                }
            }
            guard case .end = parser.parse(UnsafeRawBufferPointer(start: nil, count: 0)).event else {
                return XCTFail("request \(index) has no body: its end follows its head")
            }
        }
        XCTAssertEqual(kept.map(\.target), ["/1", "/3"])
        XCTAssertEqual(kept.map(\.host), ["h1", "h3"])
        XCTAssertEqual(kept.map { $0.headers.first(name: "X-Index") }, ["v", "vvv"])
        XCTAssertEqual(kept.map(\.headers.count), [2, 2])
    }
}
