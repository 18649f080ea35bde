// A `supervisor` with extra apps that misbehave on purpose, for the integration tests: the real
// master and worker code, driven into the failures a production service can have. It is also a
// compiled example of embedding the supervisor with your own apps.
import Echo
import EventLoop
import Glibc
import Posix
import SupervisorKit

struct FixtureBootError: Error, CustomStringConvertible {
    var description: String { "fixture app refuses to boot" }
}

/// A worker whose service cannot start: the master must stop instead of forking it forever.
let failBoot = App(name: "fail-boot", defaultBind: .ipv4(host: "127.0.0.1", port: 0)) { _ in
    { _ in throw FixtureBootError() }
}

/// A worker that serves for 200 ms, then dies: a crash loop, for the back-off.
let crashSoon = App(name: "crash-soon", defaultBind: .ipv4(host: "127.0.0.1", port: 0)) { config in
    { _ in
        EventLoop.current.schedule(after: .milliseconds(200)) { Process.exitImmediately(7) }
        return LineEchoService(idleTimeout: config.idleTimeout)
    }
}

SupervisorMain.run(apps: [.echo, failBoot, crashSoon], defaultApp: "echo", programName: "supervisor-fixture")
