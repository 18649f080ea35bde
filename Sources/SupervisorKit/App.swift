import Channel
import EventLoop
import Posix
import Settings

/// A service the `supervisor` command can run, by name (`--app echo`).
///
/// Programs that embed the supervisor register their own apps next to the built-in ones; the
/// factory runs in each worker, after fork, on the worker's loop. An app may add flags and
/// config-file keys of its own (`options`), which write `Setting`s it reads from the configuration
/// its factory is given: `config[mySetting]`.
public struct App: Sendable {
    public let name: String
    /// Where it listens when no `--bind` is given.
    public let defaultBind: SocketAddress
    /// The flags and config keys this app adds to `start` (built with `Option.value` and
    /// `Option.flag`), listed under its name in `start --help`.
    public let options: [Option]
    /// Given the configuration (in the master), returns the factory each worker runs after fork,
    /// with what it was launched with (its slot, its seat in the shared counters).
    public let makeService: @Sendable (Configuration) -> @LoopActor (WorkerLaunch) throws -> any Service

    public init(name: String, defaultBind: SocketAddress, options: [Option] = [],
                makeService: @escaping @Sendable (Configuration) -> @LoopActor (WorkerLaunch) throws -> any Service) {
        self.name = name
        self.defaultBind = defaultBind
        self.options = options
        self.makeService = makeService
    }

    /// The app as the command line sees it.
    public var commandLine: AppOptions { AppOptions(name: name, options: options) }
}
