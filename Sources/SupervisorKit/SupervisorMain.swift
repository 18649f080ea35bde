import Glibc
import Logging
import Posix
import Settings
import Supervisor
import WorkerRuntime

/// The whole `supervisor` command line, usable from any program's synchronous `main.swift`:
///
///     SupervisorMain.run(apps: [.echo, myApp], defaultApp: "echo")
///
/// It must be called from a synchronous `main` with no thread started yet: the master forks.
public enum SupervisorMain {
    public static let version = "0.1.0"

    public static func run(arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                           apps: [App], defaultApp: String, programName: String = "supervisor") -> Never {
        let parser = CommandLineParser(programName: programName, apps: apps.map(\.name), defaultApp: defaultApp)
        let command: Command
        do {
            command = try parser.parse(arguments)
        } catch {
            try? FileDescriptor.standardError.writeAll("\(programName): \(error.message)\n")
            exit(2)
        }
        switch command {
        case let .help(text):
            try? FileDescriptor.standardOutput.writeAll(text + "\n")
            exit(0)
        case .version:
            try? FileDescriptor.standardOutput.writeAll("\(programName) \(version)\n")
            exit(0)
        case let .start(config):
            exit(start(config, apps: apps))
        }
    }

    static func start(_ config: Configuration, apps: [App]) -> CInt {
        let logger = Logger(format: config.logFormat == .json ? .json : .logfmt)
        guard let app = apps.first(where: { $0.name == config.app }) else {
            logger.error("unknown app", ("app", .string(config.app)))
            return 2
        }
        let addresses = config.binds.isEmpty ? [app.defaultBind] : config.binds
        let master = Master(config: config, logger: logger) { launch in
            Worker.run(launch, config: config, logger: logger, makeService: app.makeService(config))
        }
        return master.run(addresses: addresses)
    }
}
