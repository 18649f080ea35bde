import Posix

/// One setting, as a flag (`--workers 4`) and as a config-file key (`workers = 4`).
///
/// The master's options are the table below; an app declares its own with `value` and `flag`,
/// writing a `Setting` it reads back from the configuration (`App.options`).
public struct Option: Sendable {
    public let name: String
    /// What the value looks like in help text (`N`, `ADDR`); `nil` for a switch that takes none.
    public let valueName: String?
    public let help: String
    /// May be given more than once (`--bind`).
    public let repeatable: Bool
    let apply: @Sendable (inout Configuration, String) throws(ValueError) -> Void
    /// For a repeatable option: forget the values given so far (a flag replacing the file's).
    let reset: (@Sendable (inout Configuration) -> Void)?
    /// What an app's option writes, so two apps can share one and a clash can be named; nil for
    /// the master's.
    let declaration: Declaration?

    struct Declaration: Equatable, Sendable {
        let setting: String
        let settingType: ObjectIdentifier
        let field: AnyKeyPath & Sendable

        static func == (lhs: Declaration, rhs: Declaration) -> Bool {
            lhs.setting == rhs.setting && lhs.settingType == rhs.settingType && lhs.field == rhs.field
        }
    }

    init(_ name: String, _ valueName: String?, repeatable: Bool = false, _ help: String,
         reset: (@Sendable (inout Configuration) -> Void)? = nil, declaration: Declaration? = nil,
         apply: @escaping @Sendable (inout Configuration, String) throws(ValueError) -> Void) {
        self.name = name
        self.valueName = valueName
        self.help = help
        self.repeatable = repeatable
        self.reset = reset
        self.declaration = declaration
        self.apply = apply
    }

    // MARK: An app's options

    /// An option with a value, named like its setting: `--max-n 100`, `max-n = 100`. `parse` is one
    /// of `Values`' parsers (or throws a `ValueError` of its own; any other error is described), so
    /// a bad value is refused as the master's are: `invalid value for --max-n: must be from 1 to
    /// 1000, got 5000`.
    public static func value<Value>(_ setting: Setting<Value>, _ valueName: String, _ help: String,
                                    parse: @escaping @Sendable (String) throws -> Value) -> Option {
        value(setting.name, valueName, help, setting: setting, field: \Value.self, parse: parse)
    }

    /// An option with a value that fills one field of a setting that holds several.
    public static func value<Group, Value>(_ name: String, _ valueName: String, _ help: String,
                                           setting: Setting<Group>, field: WritableKeyPath<Group, Value> & Sendable,
                                           parse: @escaping @Sendable (String) throws -> Value) -> Option {
        Option(name, valueName, help, declaration: Declaration(setting: setting.name, settingType: ObjectIdentifier(Group.self), field: field)) {
            config, text throws(ValueError) in
            let parsed: Value
            do {
                parsed = try parse(text)
            } catch let error as ValueError {
                throw error
            } catch {
                throw ValueError(String(describing: error))
            }
            config.settings[setting][keyPath: field] = parsed
        }
    }

    /// A switch, named like its setting: `--verbose`, `verbose = true`; set means `true`.
    public static func flag(_ setting: Setting<Bool>, _ help: String) -> Option {
        flag(setting.name, help, setting: setting, field: \Bool.self)
    }

    /// A switch that sets one field of a setting that holds several.
    public static func flag<Group>(_ name: String, _ help: String, setting: Setting<Group>,
                                   field: WritableKeyPath<Group, Bool> & Sendable) -> Option {
        Option(name, nil, help, declaration: Declaration(setting: setting.name, settingType: ObjectIdentifier(Group.self), field: field)) {
            config, _ throws(ValueError) in
            config.settings[setting][keyPath: field] = true
        }
    }

    // MARK: The master's options

    /// The master's options of `supervisor start` (the apps add theirs). `apps` are the service
    /// names the program knows.
    public static func masterOptions(apps: [String]) -> [Option] {
        [
            Option("config", "FILE", "read settings from FILE (key = value, the long option names); flags override it") { _, value throws(ValueError) in
                _ = try Values.path(value)
            },
            Option("workers", "N", "worker processes (default: the CPUs this process may use: its affinity mask, capped by a cgroup CPU quota)") { config, value throws(ValueError) in
                config.workers = try Values.integer(value, in: 1...Configuration.maximumWorkers)
                config.workersGiven = true
            },
            Option("bind", "ADDR", repeatable: true,
                   "listen on HOST:PORT, [IPV6]:PORT or unix:/path; repeat for several (default: the app's)",
                   reset: { $0.binds = [] }) { config, value throws(ValueError) in
                let address = try Values.address(value)
                guard !config.binds.contains(address) else { throw ValueError("'\(value)' is given twice") }
                config.binds.append(address)
            },
            Option("share-port", nil,
                   "bind even where another process already listens (SO_REUSEPORT: it and we then split the connections); off: such an address is refused") { config, _ throws(ValueError) in
                config.sharePort = true
            },
            Option("app", "NAME", "the service workers run: \(apps.joined(separator: ", "))") { config, value throws(ValueError) in
                config.app = try Values.choice(value, from: apps)
            },
            Option("worker-connections", "N",
                   "at most N open connections per worker; past it the worker stops accepting and the others or the listen queue take them (default 0: no limit but open files)") { config, value throws(ValueError) in
                config.workerConnections = try Values.integer(value, in: 0...10_000_000)
            },
            Option("backlog", "N", "listen queue length per address (default 1024)") { config, value throws(ValueError) in
                config.backlog = Int32(try Values.integer(value, in: 1...65535))
            },
            Option("timeout", "DURATION", "kill and replace a worker silent this long (default 30s)") { config, value throws(ValueError) in
                config.timeout = try Values.duration(value)
            },
            Option("graceful-timeout", "DURATION", "time a draining worker gets before SIGKILL (default 30s)") { config, value throws(ValueError) in
                config.gracefulTimeout = try Values.duration(value)
            },
            Option("shutdown-delay", "DURATION",
                   "on INT/TERM, first answer /healthz with 503 for this long while serving everything else, so load balancers move away; then drain (default 0)") { config, value throws(ValueError) in
                config.shutdownDelay = try Values.duration(value, allowZero: true)
            },
            Option("health-interval", "DURATION", "period of the health log line; 0 turns it off (default 10s)") { config, value throws(ValueError) in
                config.healthInterval = try Values.duration(value, allowZero: true)
            },
            Option("pidfile", "PATH", "write the master's pid here; refuse to start if it names a live process") { config, value throws(ValueError) in
                config.pidfile = try Values.path(value)
            },
            Option("metrics-bind", "ADDR",
                   "serve Prometheus metrics at GET /metrics on HOST:PORT or unix:/path, from the master (default: off)") { config, value throws(ValueError) in
                config.metricsBind = try Values.address(value)
            },
            Option("max-requests", "N", "replace a worker after it served N requests (plus jitter); 0: never (default 0)") { config, value throws(ValueError) in
                config.maxRequests = try Values.integer(value, in: 0...1_000_000_000_000)
            },
            Option("max-requests-jitter", "N", "add a random 0...N to each worker's --max-requests, so workers do not all recycle at once (default 0)") { config, value throws(ValueError) in
                config.maxRequestsJitter = try Values.integer(value, in: 0...1_000_000_000_000)
            },
            Option("max-worker-memory", "SIZE",
                   "replace a worker whose unshared memory (USS: its private pages, not RSS) is above SIZE (512M, 2G) at two health checks in a row; 0: never (default 0)") { config, value throws(ValueError) in
                config.maxWorkerMemory = value == "0" ? 0 : try Values.size(value)
            },
            Option("log-file", "PATH", "write the log here instead of stderr; reopened on USR1 (logrotate)") { config, value throws(ValueError) in
                config.logFile = try Values.path(value)
            },
            Option("log-format", "FORMAT", "logfmt or json (default logfmt)") { config, value throws(ValueError) in
                config.logFormat = Configuration.LogFormat(rawValue: try Values.choice(value, from: Configuration.LogFormat.allCases.map(\.rawValue))) ?? .logfmt
            },
        ]
    }
}
