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

// README handlers example: begin
import SupervisorKit

/// A small JSON API: `POST /notes` takes `{"text": "…", "tags": ["…"]}`, `GET /notes?tag=home`
/// lists them, `POST /notes/import?from=URL` copies another notes service's. Each worker keeps
/// its own notes in memory, trimmed by a task beside the server.
struct Note: Codable, Sendable {
    var text: String
    var tags: [String]?
}

@LoopActor final class Notebook {
    var notes: [Note] = []
}

/// Every response carries a request id: the client's `X-Request-Id`, or a new one.
let requestID = Middleware { request, next in
    let id = request.headers["x-request-id"] ?? String(UInt64.random(in: 1...UInt64.max), radix: 16)
    var response = await next(request)
    response.headers.append(("X-Request-Id", id))
    return response
}

let notes = App(name: "notes", defaultBind: .ipv4(host: "127.0.0.1", port: 9001)) { _ in
    { _ in
        let notebook = Notebook()
        var router = Router<RouteHandler>()
        router.post("/notes") { request in
            let note = try await request.decode(Note.self, upTo: 16 * 1024)  // malformed: 400, larger: 413
            guard !note.text.isEmpty else { throw HTTPError(.unprocessableContent, "a note needs some text") }
            notebook.notes.append(note)
            return try .json(note, status: .created)
        }
        router.get("/notes") { request in
            let tag = request.queryParameters["tag"]
            return try .json(notebook.notes.filter { note in tag.map { note.tags?.contains($0) ?? false } ?? true })
        }
        let client = HTTPClient()  // pooled keep-alive connections to other services, on this worker's loop
        router.post("/notes/import") { request in  // copies the notes of another notes service
            guard let from = request.queryParameters["from"] else { throw HTTPError(.badRequest, "say ?from=http://host:port") }
            let answer = try await client.get(from + "/notes", upTo: 1 << 20)
            guard answer.status == 200, let imported = try? answer.decode([Note].self) else {
                throw HTTPError(.badGateway, "\(from)/notes answered \(answer.status), not a list of notes")
            }
            notebook.notes += imported
            return try .json(imported, status: .created)
        }
        BackgroundTasks.start("trim-notes") {
            while true {  // the newest 1,000 notes are kept; on a drain, Task.sleep throws and this ends
                try await Task.sleep(for: .seconds(1))
                notebook.notes.removeFirst(max(0, notebook.notes.count - 1_000))
            }
        }
        return HTTPService(responder: RouterResponder(router, middleware: [requestID]))
    }
}
// README handlers example: end

/// `GET /trap` traps in its handler (a worker crash the master must replace), `GET /throw`
/// throws (500 and a log line), `GET /pid` answers the worker's pid.
let faults = App(name: "faults", defaultBind: .ipv4(host: "127.0.0.1", port: 0)) { _ in
    { _ in
        var router = Router<RouteHandler>()
        router.get("/pid") { _ in .text("\(Process.id)\n") }
        router.get("/trap") { request -> Response in
            let divisor = Int(request.queryParameters["by"] ?? "0") ?? 0
            return .text("\(100 / divisor)\n")  // division by zero: a trap
        }
        router.get("/throw") { _ in throw FixtureBootError() }
        return HTTPService(responder: RouterResponder(router))
    }
}

/// A background task that writes `beats=N` to `--heartbeat-file` every 20 ms; on a drain it
/// writes `cancelled`, cleans up for 300 ms (a loop timer, which the cancellation does not cut
/// short), then writes `stopped`: the worker must wait for it. With `--heartbeat-stubborn` the
/// cleanup takes an hour: the drain deadline must cut it.
let heartbeatFile = Setting("heartbeat-file", default: "")
let heartbeatStubborn = Setting("heartbeat-stubborn", default: false)
let heartbeat = App(name: "heartbeat", defaultBind: .ipv4(host: "127.0.0.1", port: 0), options: [
    .value(heartbeatFile, "PATH", "heartbeat: the file the background task writes") { try Values.path($0) },
    .flag(heartbeatStubborn, "heartbeat: the task's cleanup outlasts any drain deadline"),
]) { config in
    let path = config[heartbeatFile]
    let cleanup: Duration = config[heartbeatStubborn] ? .seconds(3600) : .milliseconds(300)
    return { _ in
        BackgroundTasks.start("heartbeat") {
            var beats = 0
            do {
                while true {
                    beats += 1
                    try writeAtomically(path, "beats=\(beats)\n")
                    try await Task.sleep(for: .milliseconds(20))
                }
            } catch is CancellationError {
                try writeAtomically(path, "beats=\(beats) cancelled\n")
                await withCheckedContinuation { done in EventLoop.current.schedule(after: cleanup) { done.resume() } }
                try writeAtomically(path, "beats=\(beats) cancelled stopped\n")
            }
        }
        var router = Router<RouteHandler>()
        router.get("/") { _ in .text("beating\n") }
        return HTTPService(responder: RouterResponder(router))
    }
}

/// Replaces `path`'s contents whole (a temp file renamed over it): a reader never sees half.
func writeAtomically(_ path: String, _ text: String) throws {
    let temporary = path + ".tmp"
    let fd = try FileSystem.open(temporary, [.writeOnly, .create, .truncate], permissions: 0o644)
    defer { fd.close() }
    try fd.writeAll(text)
    try FileSystem.rename(temporary, to: path)
}

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

SupervisorMain.run(apps: [.http, .echo, failBoot, crashSoon, squares, counting, context, notes, faults, heartbeat, spin, leak], defaultApp: "http", programName: "supervisor-fixture")
