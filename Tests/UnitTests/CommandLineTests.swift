import Posix
import Settings
import SupervisorKit
import XCTest

/// `supervisor start` flags: every value is parsed strictly, and every refusal names its culprit.
final class CommandLineTests: XCTestCase {
    let parser = CommandLineParser(apps: [App.echo.commandLine, App.http.commandLine], defaultApp: "echo")

    /// The configuration `supervisor start ARGS…` runs with.
    func start(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Configuration {
        let command = try parser.parse(["start"] + arguments)
        guard case let .start(config) = command else {
            XCTFail("expected start, got \(command)", file: file, line: line)
            throw UsageError("not a start command")
        }
        return config
    }

    /// The error `supervisor ARGS…` (the whole command line) is refused with.
    func refusal(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let command: Command
        do {
            command = try parser.parse(arguments)
        } catch {
            return error.message
        }
        XCTFail("\(arguments) was accepted as \(command)", file: file, line: line)
        throw UsageError("accepted")
    }

    func startRefusal(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> String {
        try refusal(["start"] + arguments, file: file, line: line)
    }

    func assertMessage(_ message: String, contains parts: String..., file: StaticString = #filePath, line: UInt = #line) {
        for part in parts {
            XCTAssertTrue(message.contains(part), "'\(message)' does not mention '\(part)'", file: file, line: line)
        }
    }

    // MARK: Subcommands

    func testEmptyArgumentsGiveTheMainHelp() throws {
        XCTAssertEqual(try parser.parse([]), .help(parser.mainHelp))
        XCTAssertEqual(try parser.parse(["--help"]), .help(parser.mainHelp))
        XCTAssertEqual(try parser.parse(["help"]), .help(parser.mainHelp))
        assertMessage(parser.mainHelp, contains: "usage: supervisor", "start")
    }

    func testVersion() throws {
        XCTAssertEqual(try parser.parse(["version"]), .version)
        XCTAssertEqual(try parser.parse(["--version"]), .version)
    }

    func testUnknownSubcommandIsNamed() throws {
        let message = try refusal(["restart", "--workers", "2"])
        assertMessage(message, contains: "'restart'")
    }

    // MARK: Control commands

    func testControlCommandsFindTheMasterByPidfile() throws {
        XCTAssertEqual(try parser.parse(["status", "--pidfile", "/run/s.pid"]), .control(ControlRequest(command: .status(json: false), pidfile: "/run/s.pid")))
        XCTAssertEqual(try parser.parse(["status", "--json", "--pidfile=/run/s.pid"]), .control(ControlRequest(command: .status(json: true), pidfile: "/run/s.pid")))
        XCTAssertEqual(try parser.parse(["reload", "--pidfile", "p"]), .control(ControlRequest(command: .reload, pidfile: "p")))
        XCTAssertEqual(try parser.parse(["stop", "--pidfile", "p", "--timeout", "5s"]), .control(ControlRequest(command: .stop, pidfile: "p", timeout: .seconds(5))))
        XCTAssertEqual(try parser.parse(["scale", "+3", "--pidfile", "p"]), .control(ControlRequest(command: .scale(.by(3)), pidfile: "p")))
        XCTAssertEqual(try parser.parse(["scale", "--pidfile", "p", "-2"]), .control(ControlRequest(command: .scale(.by(-2)), pidfile: "p")))
        XCTAssertEqual(try parser.parse(["scale", "6", "--pidfile", "p"]), .control(ControlRequest(command: .scale(.to(6)), pidfile: "p")))
        XCTAssertEqual(try parser.parse(["drain", "--pidfile", "p"]), .control(ControlRequest(command: .drain, pidfile: "p")))
        XCTAssertEqual(try parser.parse(["undrain", "--pidfile", "p"]), .control(ControlRequest(command: .undrain, pidfile: "p")))
    }

    func testControlCommandsRefuseWhatTheyCannotObey() throws {
        assertMessage(try refusal(["status"]), contains: "--pidfile PATH or --config FILE")
        assertMessage(try refusal(["scale", "--pidfile", "p"]), contains: "scale needs")
        assertMessage(try refusal(["scale", "+1x", "--pidfile", "p"]), contains: "'+1x'")
        assertMessage(try refusal(["scale", "2000", "--pidfile", "p"]), contains: "at most 1024")
        assertMessage(try refusal(["scale", "+1", "+2", "--pidfile", "p"]), contains: "unexpected argument '+2'")
        assertMessage(try refusal(["reload", "--json", "--pidfile", "p"]), contains: "'--json'")
        assertMessage(try refusal(["stop", "--timeout", "soon", "--pidfile", "p"]), contains: "--timeout")
        assertMessage(try refusal(["status", "--pidfile"]), contains: "needs a value")
        assertMessage(try refusal(["drain", "now", "--pidfile", "p"]), contains: "unexpected argument 'now'")
        assertMessage(try refusal(["reload", "--pidfile", "/a.pid", "--pidfile", "/b.pid"]), contains: "'--pidfile' is given more than once")
        assertMessage(try refusal(["status", "--json", "--json", "--pidfile", "p"]), contains: "'--json' is given more than once")
    }

    func testControlCommandsReadThePidfileFromTheConfigFile() throws {
        let path = NSTemporaryDirectory() + "supervisor-control-\(getpid()).conf"
        try "pidfile = /run/x/supervisor.pid\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        XCTAssertEqual(try parser.parse(["reload", "--config", path]), .control(ControlRequest(command: .reload, pidfile: "/run/x/supervisor.pid")))
        try "workers = 2\n".write(toFile: path, atomically: true, encoding: .utf8)
        assertMessage(try refusal(["status", "--config", path]), contains: "sets no pidfile")
    }

    func testControlWireFormatRoundTripsAndIsStrict() {
        let commands: [ControlCommand] = [.status(json: false), .status(json: true), .reload, .stop, .scale(.by(2)), .scale(.by(-1)), .scale(.to(4)),
                                          .drain, .undrain]
        for command in commands { XCTAssertEqual(ControlCommand(line: command.line), command) }
        for line in ["", "status  json", "status xml", "reload now", "scale", "scale +", "scale 1 2", "STOP"] {
            XCTAssertNil(ControlCommand(line: line), line)
        }
        XCTAssertEqual(ControlCommand.socketPath(forPidfile: "/run/supervisor/supervisor.pid"), "/run/supervisor/supervisor.sock")
        XCTAssertEqual(ControlCommand.socketPath(forPidfile: "/tmp/master"), "/tmp/master.sock")
    }

    /// An `=` followed by a combining mark is one `Character` that is not `"="`: the flag is still
    /// split at it (found by the config-file fuzzer, which checks that flags and file agree).
    func testAnEqualsSignBeforeACombiningMarkStillSplitsTheFlag() throws {
        guard case let .start(config) = try parser.parse(["start", "--pidfile=\u{30D}run/s.pid"]) else { return XCTFail("not a start") }
        XCTAssertEqual(config.pidfile, "\u{30D}run/s.pid")
        XCTAssertEqual(try parser.parse(["status", "--pidfile=\u{30D}p"]), .control(ControlRequest(command: .status(json: false), pidfile: "\u{30D}p")))
    }

    func testTheNewFlagsRefuseBadValuesNamingThem() throws {
        assertMessage(try refusal(["start", "--shutdown-delay", "soon"]), contains: "--shutdown-delay", "soon")
        assertMessage(try refusal(["start", "--shutdown-delay", "-1s"]), contains: "--shutdown-delay")
        assertMessage(try refusal(["start", "--worker-connections", "-1"]), contains: "--worker-connections")
        assertMessage(try refusal(["start", "--worker-connections", "many"]), contains: "--worker-connections", "many")
        assertMessage(try refusal(["start", "--share-port=yes"]), contains: "--share-port")
        guard case let .start(config) = try parser.parse(["start", "--shutdown-delay", "5s", "--worker-connections", "1000", "--share-port"]) else {
            return XCTFail("not a start")
        }
        XCTAssertEqual(config.shutdownDelay, .seconds(5))
        XCTAssertEqual(config.workerConnections, 1000)
        XCTAssertTrue(config.sharePort)
        XCTAssertFalse(config.workersGiven)
        guard case let .start(given) = try parser.parse(["start", "--workers", "3"]) else { return XCTFail("not a start") }
        XCTAssertTrue(given.workersGiven)
    }

    func testStartHelpMentionsEveryOption() throws {
        let expected = parser.options.map { "--\($0.name)" }
        XCTAssertEqual(expected.count, 31)
        XCTAssertTrue(expected.contains("--keepalive-timeout"))
        XCTAssertTrue(expected.contains("--max-worker-memory"))
        XCTAssertTrue(expected.contains("--metrics-bind"))
        XCTAssertTrue(expected.contains("--share-port"))
        for arguments in [["start", "--help"], ["start", "-h"], ["start", "--workers", "2", "--help"]] {
            guard case let .help(text) = try parser.parse(arguments) else { return XCTFail("\(arguments) gave no help") }
            XCTAssertEqual(text, parser.startHelp)
            for flag in expected {
                assertMessage(text, contains: flag + " ")
            }
            assertMessage(text, contains: "echo, http", "--help")
        }
    }

    // MARK: Defaults and accepted forms

    func testDefaults() throws {
        let config = try start([])
        XCTAssertEqual(config.workers, Posix.Process.availableCPUs)
        XCTAssertGreaterThanOrEqual(config.workers, 1)
        XCTAssertEqual(config.binds, [])
        XCTAssertEqual(config.app, "echo")
        XCTAssertEqual(config.backlog, 1024)
        XCTAssertEqual(config.timeout, .seconds(30))
        XCTAssertEqual(config.gracefulTimeout, .seconds(30))
        XCTAssertEqual(config.healthInterval, .seconds(10))
        XCTAssertEqual(config[App.echoIdleTimeout], .seconds(10))
        XCTAssertNil(config.pidfile)
        XCTAssertEqual(config.logFormat, .logfmt)
    }

    func testWorkersAsSeparateValueAndWithEquals() throws {
        XCTAssertEqual(try start(["--workers", "4"]).workers, 4)
        XCTAssertEqual(try start(["--workers=4"]).workers, 4)
        XCTAssertEqual(try start(["--workers", "1"]).workers, 1)
        XCTAssertEqual(try start(["--workers", "1024"]).workers, 1024)
    }

    func testEveryOptionIsApplied() throws {
        let config = try start([
            "--workers", "3", "--bind", "127.0.0.1:8080", "--bind=[::1]:8081", "--bind", "unix:/tmp/s.sock",
            "--app", "http", "--backlog", "64", "--timeout", "5s", "--graceful-timeout=1.5s",
            "--health-interval", "0", "--idle-timeout", "500ms", "--pidfile", "/run/s.pid", "--log-format", "json",
        ])
        XCTAssertEqual(config.workers, 3)
        XCTAssertEqual(config.binds, [.ipv4(host: "127.0.0.1", port: 8080), .ipv6(host: "::1", port: 8081), .unix(path: "/tmp/s.sock")])
        XCTAssertEqual(config.app, "http")
        XCTAssertEqual(config.backlog, 64)
        XCTAssertEqual(config.timeout, .seconds(5))
        XCTAssertEqual(config.gracefulTimeout, .milliseconds(1500))
        XCTAssertEqual(config.healthInterval, .zero)
        XCTAssertEqual(config[App.echoIdleTimeout], .milliseconds(500))
        XCTAssertEqual(config.pidfile, "/run/s.pid")
        XCTAssertEqual(config.logFormat, .json)
    }

    // MARK: Refusals

    func testBadWorkerCountsAreRefusedNamingTheFlag() throws {
        for value in ["0", "-1", "abc", "99999", "1025", "", " 4", "4 ", "+4", "0x10", "4.0", "99999999999999999999999"] {
            let message = try startRefusal(["--workers", value])
            assertMessage(message, contains: "--workers")
            if !value.isEmpty { assertMessage(message, contains: value) }
        }
        assertMessage(try startRefusal(["--workers=0"]), contains: "--workers", "from 1 to 1024")
    }

    func testBadBindIsRefusedNamingTheValue() throws {
        let message = try startRefusal(["--bind", "nonsense"])
        assertMessage(message, contains: "--bind", "'nonsense'")
        assertMessage(try startRefusal(["--bind", "127.0.0.1:99999"]), contains: "--bind", "127.0.0.1:99999")
    }

    func testBindIsRepeatableButNotWithTheSameAddress() throws {
        XCTAssertEqual(try start(["--bind", "127.0.0.1:1", "--bind", "127.0.0.1:2"]).binds.count, 2)
        assertMessage(try startRefusal(["--bind", "127.0.0.1:1", "--bind", "127.0.0.1:1"]), contains: "--bind", "127.0.0.1:1", "twice")
        // `localhost` is 127.0.0.1: the same listener written two ways is still a duplicate.
        assertMessage(try startRefusal(["--bind", "127.0.0.1:1", "--bind", "localhost:1"]), contains: "localhost:1", "twice")
    }

    func testUnknownFlagIsNamed() throws {
        assertMessage(try startRefusal(["--wrokers", "4"]), contains: "'--wrokers'")
        assertMessage(try startRefusal(["--wrokers=4"]), contains: "'--wrokers'")
    }

    func testStrayArgumentsAreNamed() throws {
        assertMessage(try startRefusal(["4"]), contains: "'4'")
        assertMessage(try startRefusal(["-w", "4"]), contains: "'-w'")
        assertMessage(try startRefusal(["--workers", "4", "extra"]), contains: "'extra'")
        assertMessage(try startRefusal(["--"]), contains: "'--'")
    }

    func testMissingValueIsNamed() throws {
        assertMessage(try startRefusal(["--workers"]), contains: "'--workers'", "needs a value")
        assertMessage(try startRefusal(["--timeout"]), contains: "'--timeout'", "DURATION")
    }

    func testNonRepeatableFlagGivenTwiceIsRefused() throws {
        assertMessage(try startRefusal(["--workers", "2", "--workers", "3"]), contains: "'--workers'", "more than once")
        assertMessage(try startRefusal(["--app", "echo", "--app=echo"]), contains: "'--app'", "more than once")
    }

    func testAppMustBeAKnownName() throws {
        XCTAssertEqual(try start(["--app", "http"]).app, "http")
        assertMessage(try startRefusal(["--app", "ftp"]), contains: "--app", "'ftp'", "echo, http")
        assertMessage(try startRefusal(["--app", "ECHO"]), contains: "'ECHO'")
    }

    func testLogFormatMustBeKnown() throws {
        assertMessage(try startRefusal(["--log-format", "xml"]), contains: "--log-format", "'xml'", "logfmt, json")
    }

    func testBacklogAndPidfileValidation() throws {
        assertMessage(try startRefusal(["--backlog", "0"]), contains: "--backlog")
        assertMessage(try startRefusal(["--backlog", "65536"]), contains: "--backlog")
        assertMessage(try startRefusal(["--pidfile="]), contains: "--pidfile")
    }

    // MARK: Durations

    func testDurationForms() throws {
        let cases: [(String, Duration)] = [
            ("30", .seconds(30)), ("30s", .seconds(30)), ("1.5s", .milliseconds(1500)), ("1.5", .milliseconds(1500)),
            ("500ms", .milliseconds(500)), ("2m", .seconds(120)), ("0.25m", .seconds(15)), ("1.000000001s", .nanoseconds(1_000_000_001)),
            ("007", .seconds(7)), ("86400", .seconds(86_400)), ("1440m", .seconds(86_400)),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try Values.duration(text), expected, text)
        }
        XCTAssertEqual(try start(["--timeout", "2m"]).timeout, .seconds(120))
        XCTAssertEqual(try start(["--idle-timeout=250ms"])[App.echoIdleTimeout], .milliseconds(250))
    }

    func testBadDurationsAreRefused() throws {
        for text in ["-1", "1.5.5", "s", "ms", "m", "10h", "", " 1", "1 s", ".5s", "5.s", "1e3", "1,5s", "+1", "1_000", "1S", "1sec", "1000000000s", "86401", "1441m"] {
            XCTAssertThrowsError(try Values.duration(text), "'\(text)' was accepted")
            let message = try startRefusal(["--timeout", text])
            assertMessage(message, contains: "--timeout", "'\(text)'")
        }
    }

    func testZeroIsAllowedOnlyForTheHealthInterval() throws {
        for text in ["0", "0s", "0ms", "0.0"] {
            assertMessage(try startRefusal(["--timeout", text]), contains: "--timeout", "more than zero")
            assertMessage(try startRefusal(["--graceful-timeout", text]), contains: "--graceful-timeout")
            assertMessage(try startRefusal(["--idle-timeout", text]), contains: "--idle-timeout")
            XCTAssertEqual(try start(["--health-interval", text]).healthInterval, .zero, text)
        }
        XCTAssertThrowsError(try Values.duration("0"))
        XCTAssertEqual(try Values.duration("0", allowZero: true), .zero)
    }

    func testSubNanosecondDurationRoundsToZeroAndIsRefused() throws {
        // 0.1ms is fine; 0.000000001ms is below a nanosecond, so it is zero.
        XCTAssertEqual(try Values.duration("0.1ms"), .microseconds(100))
        XCTAssertThrowsError(try Values.duration("0.000000001ms"))
    }

    func testIntegerValues() throws {
        XCTAssertEqual(try Values.integer("42", in: 1...100), 42)
        XCTAssertThrowsError(try Values.integer("101", in: 1...100)) { error in
            XCTAssertEqual((error as? ValueError)?.message, "must be from 1 to 100, got 101")
        }
        XCTAssertThrowsError(try Values.integer("-5", in: -10...10), "a sign is never accepted")
    }

    func testHugeDurationsAreAUsageErrorNotACrash() {
        XCTAssertEqual(try Values.duration("0.999999999m"), .nanoseconds(59_999_999_940), "used to overflow before scaling")
        for value in ["153722868m", "999999999m", "99999999999"] {
            XCTAssertThrowsError(try Values.duration(value), value) { error in
                XCTAssertTrue("\(error)".contains("at most") || "\(error)".contains("expected"), "\(value): \(error)")
            }
        }
    }
}

/// `--max-worker-memory`: a size, or 0 for never; anything else is refused by name.
extension CommandLineTests {
    func testMaxWorkerMemoryTakesASizeOrZero() throws {
        XCTAssertEqual(try start([]).maxWorkerMemory, 0)
        XCTAssertEqual(try start(["--max-worker-memory", "512M"]).maxWorkerMemory, 512 << 20)
        XCTAssertEqual(try start(["--max-worker-memory", "0"]).maxWorkerMemory, 0)
        for bad in ["", "lots", "-1M", "2T", "0M", "1.5G"] {
            assertMessage(try startRefusal(["--max-worker-memory", bad]), contains: "--max-worker-memory")
        }
        XCTAssertEqual(try start(["--health-interval", "0"]).memoryCheckInterval, .seconds(10), "checked even with the health line off")
        XCTAssertEqual(try start(["--health-interval", "2s"]).memoryCheckInterval, .seconds(2))
    }
}
