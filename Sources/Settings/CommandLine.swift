/// What the command line asked for.
public enum Command: Equatable, Sendable {
    case start(Configuration)
    case help(String)
    case version
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
    public let apps: [String]
    public let defaultApp: String

    public init(programName: String = "supervisor", apps: [String], defaultApp: String) {
        self.programName = programName
        self.apps = apps
        self.defaultApp = defaultApp
    }

    public func parse(_ arguments: [String]) throws(UsageError) -> Command {
        guard let subcommand = arguments.first else { return .help(mainHelp) }
        let rest = Array(arguments.dropFirst())
        switch subcommand {
        case "start":
            if rest.contains("--help") || rest.contains("-h") { return .help(startHelp) }
            return .start(try parseStart(rest))
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
        let options = Option.startOptions(apps: apps)
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
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
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

    public var mainHelp: String {
        """
        usage: \(programName) <command> [options]

        A pre-fork server: a master process binds the listening sockets and supervises worker
        processes that serve them.

        commands:
          start     run the master and its workers in the foreground
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
        for option in Option.startOptions(apps: apps) {
            let flag = "--\(option.name)" + (option.valueName.map { " \($0)" } ?? "")
            lines.append("  " + flag.padding(to: 28) + option.help)
        }
        lines.append("  " + "--help".padding(to: 28) + "show this text")
        lines.append("")
        lines.append("Durations are written 30, 30s, 1.5s, 500ms or 2m.")
        return lines.joined(separator: "\n")
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
