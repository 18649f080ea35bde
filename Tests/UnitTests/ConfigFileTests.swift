import Foundation
import Posix
import Settings
import SupervisorKit
import XCTest

/// The config file: the same option table as the flags, file:line errors, flags on top.
final class ConfigFileTests: XCTestCase {
    let parser = CommandLineParser(apps: [App.echo.commandLine, App.http.commandLine], defaultApp: "http")
    var options: [Option] { parser.options }

    func apply(_ text: String) throws(UsageError) -> Configuration {
        var config = Configuration(app: "http")
        try ConfigFile.apply(text, path: "test.conf", options: options, to: &config)
        return config
    }

    func refusal(_ text: String) -> String {
        do {
            _ = try apply(text)
            return "accepted"
        } catch {
            return error.message
        }
    }

    func testSettingsCommentsAndRepeatedBinds() throws {
        let config = try apply("""
            # a comment
            workers = 3   # trailing comment
            bind = 127.0.0.1:9000
            bind=[::1]:9000
            timeout = 1.5s
            proxy-protocol = true
            root = /srv/a#b

            """)
        XCTAssertEqual(config.workers, 3)
        XCTAssertEqual(config.binds.map(\.description), ["127.0.0.1:9000", "[::1]:9000"])
        XCTAssertEqual(config.timeout, .milliseconds(1500))
        XCTAssertTrue(config[App.httpSettings].server.proxyProtocol)
        XCTAssertEqual(config[App.httpSettings].root, "/srv/a#b", "a # inside a value is not a comment")
        XCTAssertFalse(try apply("proxy-protocol = false")[App.httpSettings].server.proxyProtocol)
    }

    func testErrorsNameTheFileAndLine() {
        XCTAssertEqual(refusal("workers = 2\nwrokers = 3"), "test.conf:2: unknown key 'wrokers'")
        XCTAssertEqual(refusal("\n\nworkers = 0"), "test.conf:3: invalid value for workers: must be from 1 to 1024, got 0")
        XCTAssertEqual(refusal("workers = 2\nworkers = 3"), "test.conf:2: 'workers' is already set on line 1")
        XCTAssertEqual(refusal("just words"), "test.conf:1: expected 'key = value', got 'just words'")
        XCTAssertEqual(refusal("workers ="), "test.conf:1: 'workers' needs a value")
        XCTAssertEqual(refusal("config = other.conf"), "test.conf:1: 'config' cannot be set in a config file")
        XCTAssertEqual(refusal("proxy-protocol = yes"), "test.conf:1: invalid value for proxy-protocol: expected true or false, got 'yes'")
        XCTAssertTrue(refusal("bind = nonsense").hasPrefix("test.conf:1: invalid value for bind: "))
    }

    func testFlagsOverrideTheFileAndABindFlagReplacesTheFilesBinds() throws {
        let path = NSTemporaryDirectory() + "supervisor-config-\(getpid()).conf"
        try "workers = 3\nbind = 127.0.0.1:9000\nbind = 127.0.0.1:9001\ntimeout = 5s\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard case let .start(config) = try parser.parse(["start", "--config", path, "--workers", "2", "--bind", "127.0.0.1:7000"]) else {
            return XCTFail("not a start")
        }
        XCTAssertEqual(config.workers, 2, "the flag wins")
        XCTAssertEqual(config.timeout, .seconds(5), "the file's other settings stay")
        XCTAssertEqual(config.binds.map(\.description), ["127.0.0.1:7000"], "a --bind flag replaces the file's binds")
        XCTAssertEqual(config.configFile, path)
        XCTAssertThrowsError(try parser.parse(["start", "--config", "/nonexistent/x.conf"])) { error in
            XCTAssertTrue("\(error)".contains("cannot read config file /nonexistent/x.conf"), "\(error)")
        }
    }

    /// The shipped sample parses (to the defaults: everything is commented out) and shows every
    /// setting, so it cannot fall behind the option table.
    func testTheSampleConfigIsCompleteAndValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let sample = try String(contentsOf: root.appendingPathComponent("etc/supervisor.conf"), encoding: .utf8)
        XCTAssertEqual(try apply(sample), Configuration(app: "http"))
        for option in options where option.name != "config" {
            XCTAssertTrue(sample.contains("\n# \(option.name) = "), "etc/supervisor.conf does not show '\(option.name)'")
        }
        // Uncommented, every example line is itself valid.
        let names = Set(options.map(\.name))
        let uncommented = sample.split(separator: "\n").map { String($0.dropFirst(2)) }
            .filter { line in line.contains(" = ") && names.contains(String(line.prefix { $0 != " " })) }
        var seen = Set<String>()
        let unique = uncommented.filter { seen.insert(String($0.prefix { $0 != " " })).inserted || $0.hasPrefix("bind") }
        XCTAssertNoThrow(try apply(unique.joined(separator: "\n")))
    }
}
