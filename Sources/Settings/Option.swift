import Posix

/// One setting, as a flag (`--workers 4`) and as a config-file key (`workers = 4`).
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

    init(_ name: String, _ valueName: String?, repeatable: Bool = false, _ help: String,
         reset: (@Sendable (inout Configuration) -> Void)? = nil,
         apply: @escaping @Sendable (inout Configuration, String) throws(ValueError) -> Void) {
        self.name = name
        self.valueName = valueName
        self.help = help
        self.repeatable = repeatable
        self.reset = reset
        self.apply = apply
    }

    /// The options of `supervisor start`. `apps` are the service names the program knows.
    public static func startOptions(apps: [String]) -> [Option] {
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
            Option("idle-timeout", "DURATION", "close a connection idle this long (default 10s)") { config, value throws(ValueError) in
                config.idleTimeout = try Values.duration(value)
            },
            Option("keepalive-timeout", "DURATION", "HTTP: close a keep-alive connection idle this long (default 5s)") { config, value throws(ValueError) in
                config.keepaliveTimeout = try Values.duration(value)
            },
            Option("header-timeout", "DURATION", "HTTP: a request head must arrive within this, else 408 (default 10s)") { config, value throws(ValueError) in
                config.headerTimeout = try Values.duration(value)
            },
            Option("body-timeout", "DURATION", "HTTP: a request body may pause at most this long (default 30s)") { config, value throws(ValueError) in
                config.bodyTimeout = try Values.duration(value)
            },
            Option("root", "DIR", "HTTP: list and serve the files of this folder") { config, value throws(ValueError) in
                config.root = try Values.path(value)
            },
            Option("max-body", "SIZE", "HTTP: largest request body, e.g. 10M or 1G (default 1G)") { config, value throws(ValueError) in
                config.maxBody = try Values.size(value)
            },
            Option("max-request-line", "SIZE", "HTTP: longest request line, else 414 (default 8K)") { config, value throws(ValueError) in
                config.maxRequestLine = try Values.size(value)
            },
            Option("max-header-size", "SIZE", "HTTP: largest header block, else 431 (default 32K)") { config, value throws(ValueError) in
                config.maxHeaderSize = try Values.size(value)
            },
            Option("max-headers", "N", "HTTP: most header fields, else 431 (default 100)") { config, value throws(ValueError) in
                config.maxHeaders = try Values.integer(value, in: 1...10_000)
            },
            Option("max-uploads", "N", "HTTP: uploads in progress across all workers (default 100)") { config, value throws(ValueError) in
                config.maxUploads = try Values.integer(value, in: 1...1_000_000)
            },
            Option("forwarded-allow-ips", "LIST",
                   "HTTP: comma-separated IPs/CIDRs whose X-Forwarded-For/-Proto are believed, * for any (default 127.0.0.1,::1)") { config, value throws(ValueError) in
                var ranges: [AddressRange] = []
                for item in value.split(separator: ",", omittingEmptySubsequences: false) {
                    do throws(AddressRange.ParseError) {
                        ranges.append(try AddressRange(parsing: item.trimmingBlanks))
                    } catch {
                        throw ValueError(error.description)
                    }
                }
                config.forwardedAllowIPs = ranges
            },
            Option("proxy-protocol", nil, "HTTP: require a PROXY protocol v1/v2 header on every connection (behind HAProxy, AWS NLB)") { config, _ throws(ValueError) in
                config.proxyProtocol = true
            },
            Option("access-log", "PATH", "HTTP: write an access log (combined format + seconds) here; - for stdout") { config, value throws(ValueError) in
                config.accessLog = try Values.path(value)
            },
            Option("pidfile", "PATH", "write the master's pid here; refuse to start if it names a live process") { config, value throws(ValueError) in
                config.pidfile = try Values.path(value)
            },
            Option("max-requests", "N", "replace a worker after it served N requests (plus jitter); 0: never (default 0)") { config, value throws(ValueError) in
                config.maxRequests = try Values.integer(value, in: 0...1_000_000_000_000)
            },
            Option("max-requests-jitter", "N", "add a random 0...N to each worker's --max-requests, so workers do not all recycle at once (default 0)") { config, value throws(ValueError) in
                config.maxRequestsJitter = try Values.integer(value, in: 0...1_000_000_000_000)
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
