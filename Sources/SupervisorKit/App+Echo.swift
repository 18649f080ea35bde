import Echo
import Settings

/// The built-in line-echo app and its one setting.
extension App {
    /// `--idle-timeout`: an echo conversation with no traffic for this long is closed.
    public static let echoIdleTimeout = Setting<Duration>("idle-timeout", default: .seconds(10))

    public static let echoOptions: [Option] = [
        .value(echoIdleTimeout, "DURATION", "close a connection idle this long (default 10s)") { try Values.duration($0) },
    ]

    /// The line-echo service on 127.0.0.1:2007.
    public static let echo = App(name: "echo", defaultBind: .ipv4(host: "127.0.0.1", port: 2007), options: echoOptions) { config in
        let idleTimeout = config[echoIdleTimeout]
        return { _ in LineEchoService(idleTimeout: idleTimeout) }
    }
}
