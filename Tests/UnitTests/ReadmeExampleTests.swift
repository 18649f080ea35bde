import Foundation
import XCTest

/// The README's embedding example is the code the test build compiles, word for word.
final class ReadmeExampleTests: XCTestCase {
    func testTheReadmeShowsTheCompiledExample() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let fixture = try String(contentsOf: root.appendingPathComponent("Tests/Fixture/main.swift"), encoding: .utf8)
        let begin = try XCTUnwrap(fixture.range(of: "// README example: begin\n"))
        let end = try XCTUnwrap(fixture.range(of: "// README example: end"))
        let example = String(fixture[begin.upperBound..<end.lowerBound])
        XCTAssertGreaterThan(example.count, 200)
        XCTAssertTrue(readme.contains("```swift\n" + example), "README.md must show Tests/Fixture/main.swift's example unchanged")
    }
}
