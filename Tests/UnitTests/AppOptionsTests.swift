import Foundation
import Settings
import SupervisorKit
import XCTest

/// An embedding program's app with options of its own: typed, strict, in the help and the config
/// file, flags on top, exactly like the master's and the built-in apps'.
final class AppOptionsTests: XCTestCase {
    static let maxN = Setting("max-n", default: 1_000)
    static let verbose = Setting("verbose", default: false)
    struct Limits: Sendable, Equatable {
        var pause: Duration = .seconds(1)
        var size = 4096
    }
    static let limits = Setting("squares-limits", default: Limits())

    static let squares = App(name: "squares", defaultBind: .ipv4(host: "127.0.0.1", port: 9000), options: [
        .value(maxN, "N", "squares: the largest n to square (default 1000)") { try Values.integer($0, in: 1...1_000_000) },
        .flag(verbose, "squares: say more"),
        .value("pause", "DURATION", "squares: pause between squares (default 1s)", setting: limits, field: \.pause) { try Values.duration($0) },
        .value("chunk", "SIZE", "squares: chunk size (default 4K)", setting: limits, field: \.size) { try Values.size($0) },
    ]) { _ in { _ in throw CancellationError() } }

    let parser = CommandLineParser(apps: [App.http.commandLine, App.echo.commandLine, squares.commandLine], defaultApp: "squares")

    func start(_ arguments: [String]) throws -> Configuration { try parser.parseStart(arguments) }

    func refusal(_ arguments: [String]) -> String {
        do {
            _ = try parser.parseStart(arguments)
            return "accepted"
        } catch {
            return error.message
        }
    }

    func temporaryFile(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "supervisor-app-options-\(getpid())-\(UUID().uuidString).conf"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testTheDeclarationsDoNotClash() throws {
        XCTAssertNoThrow(try parser.validateOptions())
    }

    func testDefaultsWhenNothingSetsThem() throws {
        let config = try start([])
        XCTAssertEqual(config[Self.maxN], 1_000)
        XCTAssertFalse(config[Self.verbose])
        XCTAssertEqual(config[Self.limits], Limits())
        XCTAssertEqual(config, Configuration(app: "squares"), "an option not given stores nothing")
    }

    func testATypedFlagAndSwitchAndFieldsAreSet() throws {
        let config = try start(["--max-n", "12", "--verbose", "--pause=250ms", "--chunk", "1M"])
        XCTAssertEqual(config[Self.maxN], 12)
        XCTAssertTrue(config[Self.verbose])
        XCTAssertEqual(config[Self.limits], Limits(pause: .milliseconds(250), size: 1 << 20))
    }

    func testTheConfigFileSetsThemAndFlagsOverrideIt() throws {
        let path = try temporaryFile("max-n = 50\nverbose = true\nchunk = 8K\nworkers = 2\n")
        let fromFile = try start(["--config", path])
        XCTAssertEqual(fromFile[Self.maxN], 50)
        XCTAssertTrue(fromFile[Self.verbose])
        XCTAssertEqual(fromFile[Self.limits].size, 8192)
        XCTAssertEqual(fromFile.workers, 2)

        let overridden = try start(["--config", path, "--max-n", "7", "--pause", "2s"])
        XCTAssertEqual(overridden[Self.maxN], 7, "the flag wins")
        XCTAssertEqual(overridden[Self.limits], Limits(pause: .seconds(2), size: 8192), "a flag for one field keeps the file's other fields")
        XCTAssertTrue(overridden[Self.verbose], "the file's other settings stay")
    }

    func testBadValuesAreRefusedLikeTheMastersOptions() throws {
        XCTAssertEqual(refusal(["--max-n", "0"]), "invalid value for --max-n: must be from 1 to 1000000, got 0")
        XCTAssertEqual(refusal(["--max-n", "lots"]), "invalid value for --max-n: expected a whole number, got 'lots'")
        XCTAssertEqual(refusal(["--max-n"]), "option '--max-n' needs a value (N)")
        XCTAssertEqual(refusal(["--max-n", "2", "--max-n", "3"]), "option '--max-n' is given more than once")
        XCTAssertEqual(refusal(["--verbose=yes"]), "option '--verbose' takes no value")
        XCTAssertEqual(refusal(["--max-m", "3"]), "unknown option '--max-m' (see 'supervisor start --help')")
        let path = try temporaryFile("\nmax-n = 2000000\n")
        XCTAssertEqual(refusal(["--config", path]), "\(path):2: invalid value for max-n: must be from 1 to 1000000, got 2000000")
        let twice = try temporaryFile("chunk = 1K\nchunk = 2K\n")
        XCTAssertEqual(refusal(["--config", twice]), "\(twice):2: 'chunk' is already set on line 1")
        let switchValue = try temporaryFile("verbose = maybe\n")
        XCTAssertEqual(refusal(["--config", switchValue]), "\(switchValue):1: invalid value for verbose: expected true or false, got 'maybe'")
    }

    func testAnotherAppsOptionsAreAcceptedWhicheverAppRuns() throws {
        let config = try start(["--app", "http", "--max-n", "3", "--idle-timeout", "2s"])
        XCTAssertEqual(config.app, "http")
        XCTAssertEqual(config[Self.maxN], 3)
        XCTAssertEqual(config[App.echoIdleTimeout], .seconds(2))
    }

    func testTheHelpListsTheAppsOptionsUnderItsName() throws {
        guard case let .help(text) = try parser.parse(["start", "--help"]) else { return XCTFail("no help") }
        let section = try XCTUnwrap(text.range(of: "options of the squares app"))
        let after = text[section.upperBound...]
        for line in ["--max-n N", "the largest n to square (default 1000)", "--verbose ", "--pause DURATION", "--chunk SIZE"] {
            XCTAssertTrue(after.contains(line), "the squares section lacks '\(line)':\n\(text)")
        }
        XCTAssertTrue(text.contains("options of the http app"))
        XCTAssertTrue(text.contains("--keepalive-timeout DURATION"))
        XCTAssertFalse(text[..<section.lowerBound].contains("--max-n"), "listed under its app only")
    }

    func testTheBuiltInAppsOptionsKeepTheirDefaults() throws {
        let config = try CommandLineParser(apps: [App.http.commandLine], defaultApp: "http").parseStart([])
        let http = config[App.httpSettings]
        XCTAssertEqual(http.server.keepAliveTimeout, .seconds(5))
        XCTAssertEqual(http.server.headerTimeout, .seconds(10))
        XCTAssertEqual(http.server.bodyTimeout, .seconds(30))
        XCTAssertEqual(http.server.limits.maxBodyLength, 1 << 30)
        XCTAssertEqual(http.server.limits.maxRequestLineLength, 8 * 1024)
        XCTAssertEqual(http.server.limits.maxHeaderBlockLength, 32 * 1024)
        XCTAssertEqual(http.server.limits.maxHeaderCount, 100)
        XCTAssertEqual(http.server.trustedProxies, [.loopbackV4, .loopbackV6])
        XCTAssertFalse(http.server.proxyProtocol)
        XCTAssertNil(http.root)
        XCTAssertNil(http.accessLog)
        XCTAssertEqual(http.maxUploads, 100)

        let set = try CommandLineParser(apps: [App.http.commandLine], defaultApp: "http").parseStart([
            "--keepalive-timeout", "1s", "--max-body", "10M", "--max-headers", "7", "--forwarded-allow-ips", "10.0.0.0/8", "--proxy-protocol",
            "--root", "/srv", "--access-log", "-", "--max-uploads", "3",
        ])[App.httpSettings]
        XCTAssertEqual(set.server.keepAliveTimeout, .seconds(1))
        XCTAssertEqual(set.server.limits.maxBodyLength, 10 << 20)
        XCTAssertEqual(set.server.limits.maxHeaderCount, 7)
        XCTAssertEqual(set.server.trustedProxies.map(\.description), ["10.0.0.0/8"])
        XCTAssertTrue(set.server.proxyProtocol)
        XCTAssertEqual(set.root, "/srv")
        XCTAssertEqual(set.accessLog, "-")
        XCTAssertEqual(set.maxUploads, 3)
    }

    // MARK: Clashes: the program's mistake, named at startup

    func testAnOptionNamedLikeTheMastersIsAProgrammerError() {
        let bad = AppOptions(name: "greedy", options: [.value(Setting("workers", default: 1), "N", "mine") { try Values.integer($0, in: 1...9) }])
        let parser = CommandLineParser(apps: [App.http.commandLine, bad], defaultApp: "http")
        XCTAssertThrowsError(try parser.validateOptions()) { error in
            XCTAssertEqual((error as? OptionClash)?.message, "app 'greedy' declares the option '--workers', which is the master's: give it another name")
        }
    }

    func testTwoAppsDeclaringOneNameDifferentlyClashButMayShareOneDeclaration() {
        let other = AppOptions(name: "other", options: [.value(Setting("max-n", default: 5), "N", "other: its own") { try Values.integer($0, in: 1...9) }])
        XCTAssertThrowsError(try CommandLineParser(apps: [Self.squares.commandLine, other], defaultApp: "squares").validateOptions()) { error in
            XCTAssertEqual((error as? OptionClash)?.message,
                           "apps 'squares' and 'other' both declare the option '--max-n', differently: share one declaration or rename one")
        }
        // An app that reuses the http app's options (an http app of your own) is no clash.
        let mine = AppOptions(name: "my-http", options: App.httpOptions)
        let sharing = CommandLineParser(apps: [App.http.commandLine, mine], defaultApp: "http")
        XCTAssertNoThrow(try sharing.validateOptions())
        XCTAssertEqual(sharing.options.filter { $0.name == "root" }.count, 1)
        XCTAssertEqual(try sharing.parseStart(["--app", "my-http", "--root", "/srv"])[App.httpSettings].root, "/srv")
    }

    func testOneSettingNameWithTwoTypesClashes() {
        let other = AppOptions(name: "other", options: [.flag(Setting("max-n", default: false), "other: on or off")])
        let typed = AppOptions(name: "typed", options: [.value("limit", "N", "typed", setting: Setting("max-n", default: 0), field: \Int.self) {
            try Values.integer($0, in: 0...9)
        }])
        XCTAssertThrowsError(try CommandLineParser(apps: [other, typed], defaultApp: "other").validateOptions()) { error in
            XCTAssertEqual((error as? OptionClash)?.message, "apps 'other' and 'typed' both use the setting name 'max-n' for values of different types")
        }
    }
}
