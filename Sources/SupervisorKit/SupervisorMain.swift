import Channel
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
        let parser = CommandLineParser(programName: programName, apps: apps.map(\.commandLine), defaultApp: defaultApp)
        do {
            try parser.validateOptions()
        } catch {
            // The program's own mistake, whatever its command line: EX_SOFTWARE.
            try? FileDescriptor.standardError.writeAll("\(programName): programmer error: \(error.message)\n")
            Process.exit(70)
        }
        let command: Command
        do {
            command = try parser.parse(arguments)
        } catch {
            try? FileDescriptor.standardError.writeAll("\(programName): \(error.message)\n")
            Process.exit(2)
        }
        switch command {
        case let .help(text):
            try? FileDescriptor.standardOutput.writeAll(text + "\n")
            Process.exit(0)
        case .version:
            try? FileDescriptor.standardOutput.writeAll("\(programName) \(version)\n")
            Process.exit(0)
        case let .control(request):
            Process.exit(ControlClient.run(request, programName: programName))
        case let .start(config):
            Process.exit(start(config, parser: parser, arguments: arguments, apps: apps))
        }
    }

    static func start(_ config: Configuration, parser: CommandLineParser, arguments: [String], apps: [App]) -> CInt {
        let logger = Logger(format: Logger.Format(config.logFormat))
        // Sockets from systemd or from the old master of a binary upgrade; the variables are removed
        // so that nothing this process starts ever misreads them.
        let inherited: [InheritedSocket]
        do {
            inherited = try InheritedSockets.take(environment: InheritedSockets.processEnvironment, pid: Process.id)
        } catch {
            logger.error("cannot use the inherited sockets", ("error", .string(error.message)))
            return 1
        }
        InheritedSockets.unsetEnvironment()
        let origin = BinaryUpgrade.Origin.takeFromEnvironment()
        let inheritedAddresses = inherited.compactMap(\.address)
        guard let config = resolved(config, apps: apps, inherited: inheritedAddresses) else {
            logger.error("unknown app", ("app", .string(config.app)))
            return 2
        }
        // HUP reads the file again and lays the same flags on top, exactly as at start.
        let startArguments = Array(arguments.dropFirst())
        let load: Master.ConfigurationLoader = { () throws(UsageError) in
            let fresh = try parser.parseStart(startArguments)
            guard let fresh = resolved(fresh, apps: apps, inherited: inheritedAddresses) else { throw UsageError("unknown app '\(fresh.app)'") }
            return fresh
        }
        let environment = Environment.values(["PATH"])
        let executable = CommandLine.arguments.first.flatMap { Process.executablePath(invokedAs: $0, environment: environment) }
        let master = Master(config: config, logger: logger, loadConfiguration: load, inherited: inherited, origin: origin,
                            executable: executable.map { ($0, CommandLine.arguments) },
                            notifier: ServiceNotifier.fromProcessEnvironment()) { launch, config in
            let logger = Logger(format: Logger.Format(config.logFormat))
            guard let app = apps.first(where: { $0.name == config.app }) else { Process.exitImmediately(WorkerExitCode.bootFailure) }
            Worker.run(launch, config: config, logger: logger, makeService: app.makeService(config))
        }
        return master.run()
    }

    /// The configuration with its addresses filled in when no `bind` is given: the inherited
    /// sockets' (socket activation), else the app's default. Nil for an app this program lacks.
    static func resolved(_ config: Configuration, apps: [App], inherited: [SocketAddress]) -> Configuration? {
        guard let app = apps.first(where: { $0.name == config.app }) else { return nil }
        var config = config
        if config.binds.isEmpty { config.binds = inherited.isEmpty ? [app.defaultBind] : inherited }
        return config
    }
}
