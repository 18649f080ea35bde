/// What the command line asked for.
public enum Command: Equatable, Sendable {
    case start(Configuration)
    /// `status`, `reload`, `stop`, `scale`: talk to a running master.
    case control(ControlRequest)
    case help(String)
    case version
}

/// A command for a running master, and how to find it.
public struct ControlRequest: Equatable, Sendable {
    public var command: ControlCommand
    /// The master's pidfile; its control socket is beside it.
    public var pidfile: String
    /// `stop`: how long to wait for the master to be gone.
    public var timeout: Duration

    public init(command: ControlCommand, pidfile: String, timeout: Duration = .seconds(60)) {
        self.command = command
        self.pidfile = pidfile
        self.timeout = timeout
    }
}

/// A command line that cannot be obeyed: one short line, naming the culprit. Exit code 2.
public struct UsageError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Parses `supervisor SUBCOMMAND [--flag value | --flag=value]...`.
///
/// Hand-written (no package dependencies), strict: an unknown flag, a missing value, a flag given
/// twice that is not repeatable, or a stray argument is an error naming it.
public struct CommandLineParser: Sendable {
    public let programName: String
    /// The apps the program knows, each with the options it adds.
    public let apps: [AppOptions]
    public let defaultApp: String
    /// Every option `start` and the config file accept: the master's, then the apps'.
    public let options: [Option]
    private let clashes: [OptionClash]

    public init(programName: String = "supervisor", apps: [AppOptions], defaultApp: String) {
        self.programName = programName
        self.apps = apps
        self.defaultApp = defaultApp
        (options, clashes) = AppOptions.merged(master: Option.masterOptions(apps: apps.map(\.name)), apps: apps)
    }

    /// The apps' names, as `--app` accepts them.
    public var appNames: [String] { apps.map(\.name) }

    /// Refuses options declared so that they clash (an app's option named like the master's, two
    /// apps' different options of one name): a mistake in the program, not in its command line,
    /// so `SupervisorMain` checks it before parsing anything.
    public func validateOptions() throws(OptionClash) {
        if let first = clashes.first { throw first }
    }

    public func parse(_ arguments: [String]) throws(UsageError) -> Command {
        guard let subcommand = arguments.first else { return .help(mainHelp) }
        let rest = Array(arguments.dropFirst())
        switch subcommand {
        case "start":
            if rest.contains("--help") || rest.contains("-h") { return .help(startHelp) }
            return .start(try parseStart(rest))
        case "status", "reload", "stop", "scale", "drain", "undrain":
            if rest.contains("--help") || rest.contains("-h") { return .help(controlHelp) }
            return .control(try parseControl(subcommand, rest))
        case "--help", "-h", "help":
            return .help(mainHelp)
        case "--version", "version":
            return .version
        default:
            throw UsageError("unknown command '\(subcommand)' (try '\(programName) --help')")
        }
    }

    /// The options of `start` (the arguments after it): the config file, then the flags on top.
    public func parseStart(_ arguments: [String]) throws(UsageError) -> Configuration {
        var config = Configuration(app: defaultApp)
        var flags: [(option: Option, value: String)] = []
        var seen: Set<String> = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw UsageError("unexpected argument '\(argument)' (options start with --; see '\(programName) start --help')")
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let split = name.splitAtFirstEquals() { (name, value) = (split.name, split.value) }
            guard let option = options.first(where: { $0.name == name }) else {
                throw UsageError("unknown option '--\(name)' (see '\(programName) start --help')")
            }
            guard option.repeatable || seen.insert(name).inserted else {
                throw UsageError("option '--\(name)' is given more than once")
            }
            if option.valueName == nil {
                // A switch: present or not.
                guard value == nil else { throw UsageError("option '--\(name)' takes no value") }
                value = ""
            } else if value == nil {
                guard index < arguments.count else { throw UsageError("option '--\(name)' needs a value (\(option.valueName ?? "VALUE"))") }
                value = arguments[index]
                index += 1
            }
            flags.append((option, value ?? ""))
        }
        // The file first, then the flags on top: a flag overrides the file, and the first flag of a
        // repeatable option (`--bind`) replaces the file's values instead of adding to them.
        if let path = flags.last(where: { $0.option.name == "config" })?.value {
            try ConfigFile.apply(try ConfigFile.read(path), path: path, options: options, to: &config)
            config.configFile = path
        }
        var reset: Set<String> = []
        for (option, value) in flags where option.name != "config" {
            if option.repeatable, reset.insert(option.name).inserted { option.reset?(&config) }
            do {
                try option.apply(&config, value)
            } catch {
                throw UsageError("invalid value for --\(option.name): \(error.message)")
            }
        }
        return config
    }

    /// `status [--json]`, `reload`, `stop [--timeout D]`, `scale +N|-N|N`, `drain`, `undrain`, each with `--pidfile
    /// PATH` or `--config FILE` (whose `pidfile` is used) to find the master.
    func parseControl(_ name: String, _ arguments: [String]) throws(UsageError) -> ControlRequest {
        var pidfile: String?
        var configPath: String?
        var json = false
        var timeout = Duration.seconds(60)
        var target: ControlCommand.ScaleTarget?
        var index = 0
        var seen = Set<String>()
        func value(_ flag: String, _ inline: String?) throws(UsageError) -> String {
            if let inline { return inline }
            guard index < arguments.count else { throw UsageError("option '\(flag)' needs a value") }
            index += 1
            return arguments[index - 1]
        }
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            var flag = argument
            var inline: String?
            if argument.hasPrefix("--"), let split = argument.splitAtFirstEquals() { (flag, inline) = (split.name, split.value) }
            // Like `start`, an option given twice is a mistake to point out, not a silent last-one-wins.
            if ["--pidfile", "--config", "--json", "--timeout"].contains(flag), !seen.insert(flag).inserted {
                throw UsageError("option '\(flag)' is given more than once")
            }
            switch flag {
            case "--pidfile":
                let text = try value(flag, inline)
                do {
                    pidfile = try Values.path(text)
                } catch {
                    throw UsageError("invalid value for --pidfile: \(error.message)")
                }
            case "--config":
                configPath = try value(flag, inline)
            case "--json" where name == "status" && inline == nil:
                json = true
            case "--timeout" where name == "stop":
                let text = try value(flag, inline)
                do {
                    timeout = try Values.duration(text)
                } catch {
                    throw UsageError("invalid value for --timeout: \(error.message)")
                }
            default:
                if name == "scale", target == nil, !argument.hasPrefix("--") {
                    guard let parsed = ControlCommand.ScaleTarget(parsing: argument) else {
                        throw UsageError("scale needs +N, -N or N (at most \(Configuration.maximumWorkers)), got '\(argument)'")
                    }
                    target = parsed
                } else {
                    throw UsageError("unexpected argument '\(argument)' for '\(name)' (see '\(programName) \(name) --help')")
                }
            }
        }
        if pidfile == nil, let configPath {
            pidfile = try parseStart(["--config", configPath]).pidfile
            if pidfile == nil { throw UsageError("\(configPath) sets no pidfile: give --pidfile PATH") }
        }
        guard let pidfile else { throw UsageError("'\(name)' finds the master by its pidfile: give --pidfile PATH or --config FILE") }
        let command: ControlCommand
        switch name {
        case "status": command = .status(json: json)
        case "reload": command = .reload
        case "stop": command = .stop
        case "drain": command = .drain
        case "undrain": command = .undrain
        default:
            guard let target else { throw UsageError("scale needs +N, -N or N") }
            command = .scale(target)
        }
        return ControlRequest(command: command, pidfile: pidfile, timeout: timeout)
    }

    public var controlHelp: String {
        """
        usage: \(programName) status [--json] (--pidfile PATH | --config FILE)
               \(programName) reload          (--pidfile PATH | --config FILE)
               \(programName) stop [--timeout DURATION] (--pidfile PATH | --config FILE)
               \(programName) scale +N|-N|N   (--pidfile PATH | --config FILE)
               \(programName) drain | undrain (--pidfile PATH | --config FILE)

        Talk to a running master through its control socket, beside its pidfile (supervisor.pid →
        supervisor.sock). --config FILE uses the file's pidfile setting.

          status    master pid, uptime, generation, and per worker: pid, age, requests, open
                    connections, RSS, last heartbeat; --json for machines
          reload    read the configuration again and replace every worker (like SIGHUP); an
                    invalid configuration is refused with the error, and nothing changes
          stop      graceful shutdown (like SIGTERM); waits until the master is gone (--timeout,
                    default 60s) and removes a pidfile it left
          scale     add (+N) or remove (-N) workers, or set the count (N)
          drain     take the server out of its load balancer's rotation: /healthz answers 503 on
                    every worker, every other request is still served; nothing stops
          undrain   back into rotation

        exit status: 0 done; 1 no master running, or it refused; 2 usage; 3 stop timed out
        """
    }

    public var mainHelp: String {
        """
        usage: \(programName) <command> [options]

        A pre-fork server: a master process binds the listening sockets and supervises worker
        processes that serve them.

        commands:
          start     run the master and its workers in the foreground
          status    show a running master and its workers (--json for machines)
          reload    re-read the configuration and replace every worker
          stop      stop a running master gracefully and wait for it
          scale     add or remove workers: +N, -N, or N
          drain     out of the load balancer's rotation (/healthz 503), still serving
          undrain   back into rotation
          help      show this text
          version   print the version

        '\(programName) <command> --help' describes a command's options.
        Signals the master obeys: INT/TERM graceful stop, QUIT fast stop, HUP replace workers,
        TTIN/TTOU one worker more/fewer (see SIGNALS.md).
        """
    }

    public var startHelp: String {
        var lines = [
            "usage: \(programName) start [options]",
            "",
            "Binds every --bind address, forks the workers and supervises them until INT, TERM or QUIT.",
            "",
            "options:",
        ]
        for option in options where option.declaration == nil { lines.append(Self.helpLine(option)) }
        lines.append(Self.helpLine("--help", "show this text"))
        for app in apps where !app.options.isEmpty {
            lines.append("")
            lines.append("options of the \(app.name) app (--app \(app.name); accepted whichever app runs):")
            for option in app.options { lines.append(Self.helpLine(option)) }
        }
        lines.append("")
        lines.append("Durations are written 30, 30s, 1.5s, 500ms or 2m.")
        return lines.joined(separator: "\n")
    }

    static func helpLine(_ option: Option) -> String {
        helpLine("--\(option.name)" + (option.valueName.map { " \($0)" } ?? ""), option.help)
    }

    static func helpLine(_ flag: String, _ help: String) -> String { "  " + flag.padding(to: 28) + help }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
