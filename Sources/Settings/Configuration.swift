import Posix

/// Everything `supervisor start` runs with. Flags and the config file fill it in through the same
/// `Option` table, so the two can never disagree on a name or a value's meaning.
///
/// The master's settings are fields; an app's (the http app's timeouts and limits, echo's idle
/// timeout, an embedding program's own) are in `settings`, read as `config[setting]`.
public struct Configuration: Sendable, Equatable {
    public enum LogFormat: String, Sendable, CaseIterable { case logfmt, json }

    /// The most workers a master runs (flags, config file, scaling): a bound on forks and descriptors.
    public static let maximumWorkers = 1024

    /// Worker processes; default: the CPUs this process can use (`CPUBudget`: the affinity mask,
    /// capped by the cgroup's CPU quota).
    public var workers: Int = CPUBudget.current.workers
    /// `workers` was set by a flag or the config file, not taken from the CPU budget.
    public var workersGiven = false
    /// Listening addresses; empty means the app's default address.
    public var binds: [SocketAddress] = []
    /// The service the workers run (`echo`, `http`, or a name the embedding program registered).
    public var app: String
    public var backlog: Int32 = 1024
    /// At most this many open connections per worker (0: no limit but open files); past it the
    /// worker stops accepting and the others, or the listen queue, take the new ones.
    public var workerConnections = 0
    /// Bind a TCP address even where another process listens already (`SO_REUSEPORT` lets any
    /// socket of the same user join, and the kernel then splits the connections between them).
    /// Off by default, so a second instance started by mistake is refused, not silently half-served.
    public var sharePort = false
    /// A worker silent (no heartbeat) for this long is killed and replaced.
    public var timeout: Duration = .seconds(30)
    /// How long a graceful shutdown or a retiring worker may take before SIGKILL.
    public var gracefulTimeout: Duration = .seconds(30)
    /// On INT/TERM (or `supervisor stop`): this long out of rotation first (health checks fail,
    /// everything else is served), so load balancers stop sending work before the drain.
    public var shutdownDelay: Duration = .zero
    /// Period of the master's health log line; zero turns it off.
    public var healthInterval: Duration = .seconds(10)
    public var pidfile: String?
    /// Where the master serves `GET /metrics` (Prometheus text format); nil: nowhere. Bound once,
    /// at start: a reload does not move it.
    public var metricsBind: SocketAddress?
    /// The file the settings were read from, if any (HUP will re-read it).
    public var configFile: String?
    public var logFormat: LogFormat = .logfmt
    /// Where the master and its workers log (stderr redirected to it); nil: stderr as inherited.
    public var logFile: String?
    /// A worker that served this many requests (plus a random 0...`maxRequestsJitter`) is replaced,
    /// readiness-gated; 0 means never.
    public var maxRequests = 0
    public var maxRequestsJitter = 0
    /// A worker whose unshared memory (USS, from `/proc/PID/smaps_rollup`) is above this many bytes
    /// at two health checks in a row is replaced, readiness-gated; 0 means never.
    public var maxWorkerMemory = 0
    /// The apps' settings that an option set; read them with `config[setting]`.
    public var settings = SettingValues()

    public init(app: String) { self.app = app }

    /// An app's setting: what its option set, else its default.
    public subscript<Value>(setting: Setting<Value>) -> Value {
        get { settings[setting] }
        set { settings[setting] = newValue }
    }

    /// How often `--max-worker-memory` is checked: at each health check, or every 10 s when the
    /// health line is off.
    public var memoryCheckInterval: Duration {
        healthInterval > .zero ? healthInterval : .seconds(10)
    }

    /// How often a worker reports in: often enough that a quarter of `timeout` always holds one,
    /// and at most once a second, which is cheap.
    public var heartbeatInterval: Duration {
        min(.seconds(1), max(.milliseconds(50), timeout / 4))
    }
}
