// A `supervisor` with extra apps, for the integration tests: the real master and worker code,
// driven into the failures a production service can have, plus the README's embedding example
// (between the markers below, kept identical to the README by ReadmeExampleTests).
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
        return LineEchoService(idleTimeout: config[App.echoIdleTimeout])
    }
}

// README example: begin
import SupervisorKit

/// Your own handlers under the same master: a router with path parameters, and CPU-heavy work
/// handed to the worker's thread pool so the event loop never stalls, its size a flag of the app's
/// own (`--square-threads N`, or `square-threads = N` in the config file).
let squareThreads = Setting("square-threads", default: 2)
let squares = App(name: "squares", defaultBind: .ipv4(host: "127.0.0.1", port: 9000), options: [
    .value(squareThreads, "N", "squares: threads that compute (default 2)") { try Values.integer($0, in: 1...64) },
]) { config in
    let threads = config[squareThreads]
    return { _ in
        let pool = BlockingPool(threads: threads)
        var router = Router<RouteHandler>()
        router.get("/square/{n}") { request in
            guard let n = Int(request.parameters["n"] ?? "") else { return .text("not a number\n", status: .badRequest) }
            let square = try? await pool.run { n.multipliedReportingOverflow(by: n) }
            guard let square, !square.overflow else { return .text("too large\n", status: .badRequest) }
            return .text("\(square.partialValue)\n")
        }
        return HTTPService(responder: RouterResponder(router))
    }
}
// README example: end

/// A streamed body of unknown length: `GET /count/{n}` writes n lines, one chunk each.
let counting = App(name: "counting", defaultBind: .ipv4(host: "127.0.0.1", port: 0)) { _ in
    { _ in
        var router = Router<RouteHandler>()
        router.get("/count/{n}") { request in
            let n = Int(request.parameters["n"] ?? "") ?? 0
            return Response(headers: [("Content-Type", "text/plain")], body: .stream { writer in
                let line = ByteBuffer()  // stable storage: its bytes stay put across the await
                for index in 1...max(1, n) {
                    line.removeAll()
                    Array("line \(index)\n".utf8).withUnsafeBytes { line.append($0) }
                    try await writer.write(line.bytes)
                }
            })
        }
        return HTTPService(responder: RouterResponder(router))
    }
}

/// A handler's view of its connection: `GET /context` answers one `name=value` line each. It runs
/// with the http app's server settings (`--proxy-protocol`, `--forwarded-allow-ips`, …).
let context = App(name: "context", defaultBind: .ipv4(host: "127.0.0.1", port: 0)) { config in
    let settings = config[App.httpSettings].server
    return { _ in
        var router = Router<RouteHandler>()
        router.get("/context") { request in
            let context = request.context
            return .text("""
                peer=\(context.peer)
                peer-address=\(context.peerAddress?.description ?? "-")
                local=\(context.localAddress?.description ?? "-")
                proxied=\(context.proxiedClient ?? "-")
                client=\(context.client)
                scheme=\(context.scheme)
                draining=\(context.isDraining)

                """)
        }
        return HTTPService(responder: RouterResponder(router), settings: settings)
    }
}

/// A handler that never returns: `GET /spin` spins in `spinInHungHandler`, so the hung-worker report
/// has a function to name (HangReportTests). It uses the blocking pool first, so the worker has
/// threads besides its loop when it hangs: the report must still be the loop thread's.
@inline(never)
func spinInHungHandler(_ seed: UInt64) -> UInt64 {
    var state = seed
    while state != 42 { state = state &* 6364136223846793005 &+ 1442695040888963407 }
    return state
}

let spin = App(name: "spin", defaultBind: .ipv4(host: "127.0.0.1", port: 0)) { _ in
    { _ in
        var router = Router<RouteHandler>()
        let pool = BlockingPool(threads: 2)
        router.get("/spin") { _ in
            let seed = (try? await pool.run { UInt64(1) }) ?? 1
            return .text("\(spinInHungHandler(seed))\n")
        }
        return HTTPService(responder: RouterResponder(router))
    }
}

/// Memory that is never given back: `GET /leak/{mib}` allocates and touches that many MiB, kept
/// for the worker's life (MemoryRecyclingTests).
nonisolated(unsafe) var leaked: [UnsafeMutableRawPointer] = []
let leak = App(name: "leak", defaultBind: .ipv4(host: "127.0.0.1", port: 0)) { _ in
    { _ in
        var router = Router<RouteHandler>()
        router.get("/leak/{mib}") { request in
            guard let mib = Int(request.parameters["mib"] ?? ""), (1...1024).contains(mib),
                  let block = malloc(mib << 20) else { return .text("bad size\n", status: .badRequest) }
            memset(block, 0x5a, mib << 20)
            leaked.append(block)
            return .text("leaked \(mib) MiB\n")
        }
        router.get("/") { _ in .text("ok\n") }
        return HTTPService(responder: RouterResponder(router))
    }
}

SupervisorMain.run(apps: [.http, .echo, failBoot, crashSoon, squares, counting, context, spin, leak], defaultApp: "http", programName: "supervisor-fixture")
