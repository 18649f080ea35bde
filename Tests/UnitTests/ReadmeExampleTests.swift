import Foundation
import XCTest

/// The README's examples are the code the test build compiles, word for word.
final class ReadmeExampleTests: XCTestCase {
    /// The README, and the text between `// <marker>: begin` and `// <marker>: end` in the fixture.
    func readmeAndExample(_ marker: String) throws -> (readme: String, example: String) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let fixture = try String(contentsOf: root.appendingPathComponent("Tests/Fixture/main.swift"), encoding: .utf8)
        let begin = try XCTUnwrap(fixture.range(of: "// \(marker): begin\n"))
        let end = try XCTUnwrap(fixture.range(of: "// \(marker): end"))
        let example = String(fixture[begin.upperBound..<end.lowerBound])
        XCTAssertGreaterThan(example.count, 200)
        return (readme, example)
    }

    func testTheReadmeShowsTheCompiledExample() throws {
        let (readme, example) = try readmeAndExample("README example")
        XCTAssertTrue(readme.contains("```swift\n" + example), "README.md must show Tests/Fixture/main.swift's example unchanged")
    }

    /// The "Writing handlers" example, followed in the README by the `SupervisorMain.run` line
    /// that makes it a program.
    func testTheReadmeShowsTheCompiledHandlersExample() throws {
        let (readme, example) = try readmeAndExample("README handlers example")
        XCTAssertTrue(readme.contains("## Writing handlers\n"))
        XCTAssertTrue(readme.contains("```swift\n" + example + "SupervisorMain.run(apps: [notes], defaultApp: \"notes\")\n```"),
                      "README.md must show Tests/Fixture/main.swift's handlers example unchanged")
    }

    /// The "HTTP client" section's first swift block is Tests/ClientExample/main.swift, whole.
    func testTheReadmeShowsTheCompiledClientExample() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let (readme, _) = try readmeAndExample("README example")
        let example = try String(contentsOf: root.appendingPathComponent("Tests/ClientExample/main.swift"), encoding: .utf8)
        let section = try XCTUnwrap(readme.range(of: "\n## HTTP client\n"), "README.md has no \"HTTP client\" section")
        let rest = readme[section.upperBound...]
        let sectionText = rest.range(of: "\n## ").map { rest[..<$0.lowerBound] } ?? rest
        let open = try XCTUnwrap(sectionText.range(of: "```swift\n"), "no swift block in the HTTP client section")
        let close = try XCTUnwrap(sectionText[open.upperBound...].range(of: "\n```\n"))
        XCTAssertEqual(String(sectionText[open.upperBound..<close.lowerBound]) + "\n", example,
                       "README.md's HTTP client example must be Tests/ClientExample/main.swift unchanged")
        XCTAssertTrue(example.contains("HTTPClient.run"))
    }
}
