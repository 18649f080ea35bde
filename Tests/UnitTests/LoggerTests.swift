import Foundation
import Logging
import XCTest

/// Log lines as events with fields: logfmt that a parser can split, JSON that a parser accepts.
final class LoggerTests: XCTestCase {
    let timestamp = "2026-11-23T10:15:42.123Z"

    func logfmt(_ fields: [(String, LogValue)], message: String = "event", context: [(String, LogValue)] = []) -> String {
        Logger(format: .logfmt, context: context).render(.info, message, fields, timestamp: timestamp)
    }

    /// The rendering of one field's value in logfmt.
    func logfmtValue(_ value: LogValue, file: StaticString = #filePath, line: UInt = #line) -> String {
        let rendered = logfmt([("k", value)])
        let prefix = "ts=\(timestamp) level=info msg=event k="
        XCTAssertTrue(rendered.hasPrefix(prefix), rendered, file: file, line: line)
        XCTAssertTrue(rendered.hasSuffix("\n"), file: file, line: line)
        return String(rendered.dropFirst(prefix.count).dropLast())
    }

    func json(_ message: String, _ fields: [(String, LogValue)], level: Logger.Level = .info, context: [(String, LogValue)] = []) -> String {
        Logger(format: .json, context: context).render(level, message, fields, timestamp: timestamp)
    }

    func parseJSON(_ line: String, file: StaticString = #filePath, line sourceLine: UInt = #line) throws -> [String: Any] {
        XCTAssertTrue(line.hasSuffix("}\n"), line, file: file, line: sourceLine)
        XCTAssertFalse(line.dropLast().contains("\n"), "one line per event", file: file, line: sourceLine)
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return try XCTUnwrap(object as? [String: Any], "not a JSON object: \(line)", file: file, line: sourceLine)
    }

    // MARK: logfmt

    func testLogfmtLineLayout() {
        let line = Logger(format: .logfmt, context: [("worker", .integer(1234))])
            .render(.warn, "worker exited", [("slot", 2), ("status", "signal:KILL")], timestamp: timestamp)
        XCTAssertEqual(line, "ts=\(timestamp) level=warn msg=\"worker exited\" worker=1234 slot=2 status=signal:KILL\n")
    }

    func testLogfmtPlainValuesAreNotQuoted() {
        XCTAssertEqual(logfmtValue("plain"), "plain")
        XCTAssertEqual(logfmtValue("127.0.0.1:8080"), "127.0.0.1:8080")
        XCTAssertEqual(logfmtValue("/tmp/x.sock"), "/tmp/x.sock")
        XCTAssertEqual(logfmtValue("héllo→✓"), "héllo→✓")
    }

    func testLogfmtQuotesAndEscapesWhatWouldBreakTheLine() {
        XCTAssertEqual(logfmtValue("two words"), "\"two words\"")
        XCTAssertEqual(logfmtValue("a=b"), "\"a=b\"")
        XCTAssertEqual(logfmtValue("say \"hi\""), "\"say \\\"hi\\\"\"")
        XCTAssertEqual(logfmtValue("\"") , "\"\\\"\"")
        XCTAssertEqual(logfmtValue(""), "\"\"")
        XCTAssertEqual(logfmtValue("back\\slash"), "\"back\\\\slash\"")
        XCTAssertEqual(logfmtValue("line1\nline2"), "\"line1\\nline2\"")
        XCTAssertEqual(logfmtValue("cr\r"), "\"cr\\r\"")
        XCTAssertEqual(logfmtValue("tab\there"), "\"tab\\there\"")
        XCTAssertEqual(logfmtValue("bell\u{07}"), "\"bell\\u0007\"")
        XCTAssertEqual(logfmtValue("\u{01}"), "\"\\u0001\"")
        XCTAssertEqual(logfmtValue("\u{1f}"), "\"\\u001f\"")
        XCTAssertEqual(logfmtValue("del\u{7f}"), "\"del\\u007f\"")
        XCTAssertEqual(logfmtValue("nul\u{0}"), "\"nul\\u0000\"")
    }

    func testLogfmtIntegersAreBare() {
        XCTAssertEqual(logfmtValue(42), "42")
        XCTAssertEqual(logfmtValue(-7), "-7")
        XCTAssertEqual(logfmtValue(.integer(.min)), "-9223372036854775808")
        XCTAssertEqual(logfmtValue(LogValue(UInt64.max)), "9223372036854775807", "a UInt64 beyond Int64 clamps")
        XCTAssertEqual(logfmtValue(LogValue(Int32(5))), "5")
    }

    func testLogfmtMessageIsQuotedLikeAnyValue() {
        XCTAssertEqual(logfmt([], message: "started"), "ts=\(timestamp) level=info msg=started\n")
        XCTAssertEqual(logfmt([], message: "a \"b\"\n"), "ts=\(timestamp) level=info msg=\"a \\\"b\\\"\\n\"\n")
    }

    func testEveryLineIsOneLine() {
        let nasty = "x\ny\r\nz\u{2028}"
        let line = logfmt([("a", .string(nasty)), ("b", "\n")], message: nasty)
        XCTAssertEqual(line.filter { $0 == "\n" || $0 == "\r\n" }.count, 1)
        XCTAssertFalse(line.unicodeScalars.dropLast().contains { $0 == "\n" || $0 == "\r" })
    }

    // MARK: JSON

    func testJSONIsValidWithNumbersAsNumbers() throws {
        let line = json("worker exited", [("pid", .integer(123)), ("status", "signal:KILL"), ("negative", -5), ("digits", "42")],
                        level: .error, context: [("worker", .integer(9))])
        XCTAssertTrue(line.hasPrefix("{\"ts\":\"\(timestamp)\",\"level\":\"error\",\"msg\":\"worker exited\",\"worker\":9,"), line)
        let object = try parseJSON(line)
        XCTAssertEqual(object.count, 8)
        XCTAssertEqual(object["ts"] as? String, timestamp)
        XCTAssertEqual(object["level"] as? String, "error")
        XCTAssertEqual(object["msg"] as? String, "worker exited")
        XCTAssertEqual((object["pid"] as? NSNumber)?.int64Value, 123)
        XCTAssertEqual((object["worker"] as? NSNumber)?.int64Value, 9)
        XCTAssertEqual((object["negative"] as? NSNumber)?.int64Value, -5)
        XCTAssertNil(object["pid"] as? String, "a number is not quoted")
        XCTAssertEqual(object["digits"] as? String, "42", "a string of digits stays a string")
        XCTAssertEqual(object["status"] as? String, "signal:KILL")
    }

    func testJSONEscapesStrings() throws {
        let strings = [
            "plain", "", "two words", "a=b", "say \"hi\"", "back\\slash", "line1\nline2", "cr\r", "tab\t",
            "\u{0}\u{01}\u{07}\u{1f}", "del\u{7f}", "héllo→✓", "emoji 🚀", "\u{2028}", "</script>",
        ]
        let fields = strings.enumerated().map { ("f\($0.offset)", LogValue.string($0.element)) }
        let line = json("msg with \"quotes\"\n", fields)
        let object = try parseJSON(line)
        XCTAssertEqual(object["msg"] as? String, "msg with \"quotes\"\n")
        for (index, text) in strings.enumerated() {
            XCTAssertEqual(object["f\(index)"] as? String, text, "field \(index)")
        }
        XCTAssertTrue(line.contains("\"f9\":\"\\u0000\\u0001\\u0007\\u001f\""), line)
    }

    func testJSONEscapesKeys() throws {
        let object = try parseJSON(json("m", [("odd \"key\"", 1)]))
        XCTAssertEqual((object["odd \"key\""] as? NSNumber)?.intValue, 1)
    }

    func testJSONExtremeIntegers() throws {
        let line = json("m", [("min", .integer(.min)), ("max", .integer(.max))])
        XCTAssertTrue(line.contains("\"min\":-9223372036854775808"), line)
        XCTAssertTrue(line.contains("\"max\":9223372036854775807"), line)
        _ = try parseJSON(line)
    }
}
