import Foundation
import Glibc
import XCTest

/// `--metrics-bind`: the master's Prometheus page, against the real binary: the counts are the
/// requests sent, they survive a worker's `kill -9` and a reload, a new master starts from zero,
/// and no scraper can stall the master.
final class MetricsTests: XCTestCase {
    func start(_ extra: [String] = [], metrics: String = "127.0.0.1:0", workers: Int = 2) throws -> (ServerProcess, String) {
        let directory = ServerProcess.temporaryDirectory()
        let pidfile = directory + "/supervisor.pid"
        let server = try ServerProcess(["start", "--workers", "\(workers)", "--bind", "127.0.0.1:0", "--health-interval", "0",
                                        "--pidfile", pidfile, "--metrics-bind", metrics] + extra)
        SupervisorStatus.wait(pidfile: pidfile, "generation 1 ready") { $0.generationReady == 1 }
        return (server, pidfile)
    }

    func send(_ count: Int, _ method: String, _ target: String, port: UInt16) throws {
        for _ in 0..<count { _ = try HTTPTestClient.get(port: port, target, method: method) }
    }

    func testTheCountsAreTheRequestsSent() throws {
        let (server, _) = try start()
        defer { server.stop() }
        let port = server.port()
        let metrics = server.metricsPort()
        try send(12, "GET", "/hello/a", port: port)
        try send(3, "GET", "/missing", port: port)
        try send(4, "HEAD", "/hello/a", port: port)
        try send(2, "POST", "/hello/a", port: port)
        try send(1, "PATCH", "/hello/a", port: port)
        for _ in 0..<2 {  // refused by the parser (a field line without a colon): 400, method `other`
            let raw = try EchoClient(port: port)
            try raw.send("GET /hello/a HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n")
            XCTAssertTrue(String(decoding: try raw.receiveAll(), as: UTF8.self).hasPrefix("HTTP/1.1 400 "))
        }
        let sent = 24.0
        guard let page = MetricsPage.wait(port: metrics, "all \(sent) requests", until: { $0.total("supervisor_http_requests_total") == sent })
        else { return }
        XCTAssertEqual(page.requests("GET", "2xx"), 12)
        XCTAssertEqual(page.requests("GET", "4xx"), 3)
        XCTAssertEqual(page.requests("HEAD", "2xx"), 4)
        XCTAssertEqual(page.requests("POST", "4xx"), 2)
        XCTAssertEqual(page.requests("other", "4xx"), 3, "PATCH, and the two the parser refused")
        XCTAssertEqual(page["supervisor_http_request_duration_seconds_count"], sent)
        XCTAssertEqual(page["supervisor_http_request_duration_seconds_bucket{le=\"+Inf\"}"], sent)
        XCTAssertEqual(page["supervisor_connections_accepted_total"], sent, "one connection per request")
        XCTAssertGreaterThan(page["supervisor_response_bytes_total"] ?? 0, sent * 100, "heads of ~130 bytes at least")
        XCTAssertEqual(page["supervisor_workers{state=\"ready\"}"], 2)
        XCTAssertEqual(page["supervisor_generation"], 1)
        XCTAssertEqual(page.total("supervisor_worker_resident_memory_bytes") > 2_000_000, true)
        XCTAssertNotNil(page["supervisor_listen_queue_length{listener=\"127.0.0.1:\(port)\"}"], page.text)
        let start = page["supervisor_master_start_time_seconds"] ?? 0
        XCTAssertLessThan(abs(start - Date().timeIntervalSince1970), 120, "the wall-clock start of this master")
        for family in ["supervisor_http_requests_total", "supervisor_http_request_duration_seconds", "supervisor_echo_lines_total"] {
            XCTAssertTrue(page.text.contains("# HELP \(family) ") && page.text.contains("# TYPE \(family) "), family)
        }
        let saved = ProcessInfo.processInfo.environment["METRICS_PAGE_OUT"]
        if let saved { try page.text.write(toFile: saved, atomically: true, encoding: .utf8) }
    }

    func testPromtoolAcceptsThePage() throws {
        guard let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw XCTSkip("promtool is not installed (Debian: apt-get install -y prometheus); the page's format is not checked by it here")
        }
        let (server, _) = try start(["--app", "echo"], workers: 1)
        defer { server.stop() }
        let echo = try EchoClient(port: server.port())
        XCTAssertEqual(try echo.echo("one\ntwo\n"), "one\ntwo\n")
        guard let page = MetricsPage.wait(port: server.metricsPort(), "the echoed lines", until: { $0["supervisor_echo_lines_total"] == 2 })
        else { return }
        XCTAssertEqual(page["supervisor_echo_connections_open"], 1)
        let file = server.directory + "/page.txt"
        try page.text.write(toFile: file, atomically: true, encoding: .utf8)
        let check = Foundation.Process()
        check.executableURL = URL(fileURLWithPath: promtool)
        check.arguments = ["check", "metrics"]
        check.standardInput = FileHandle(forReadingAtPath: file)
        let output = Pipe()
        check.standardOutput = output
        check.standardError = output
        try check.run()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        check.waitUntilExit()
        XCTAssertEqual(check.terminationStatus, 0, "promtool: \(said)\n\(page.text)")
        XCTAssertEqual(said, "", "no lint complaint")
    }

    func testCountersSurviveAKilledWorkerAndAReload() throws {
        let (server, pidfile) = try start()
        defer { server.stop() }
        let port = server.port()
        let metrics = server.metricsPort()
        try send(20, "GET", "/hello/a", port: port)
        MetricsPage.wait(port: metrics, "20 requests") { $0.requests("GET", "2xx") == 20 }

        let victim = try XCTUnwrap(server.workerPIDs.first)
        kill(victim, SIGKILL)
        SupervisorStatus.wait(pidfile: pidfile, "a replacement ready") { status in
            status.ready.count == 2 && !status.workers.contains { $0.pid == Int(victim) }
        }
        let afterKill = MetricsPage.wait(port: metrics, "the crash counted") { $0.restarts("crash") == 1 }
        XCTAssertEqual(afterKill?.requests("GET", "2xx"), 20, "the killed worker's requests are kept")
        XCTAssertEqual(afterKill?["supervisor_connections_accepted_total"], 20)

        try send(10, "GET", "/hello/b", port: port)
        MetricsPage.wait(port: metrics, "30 requests") { $0.requests("GET", "2xx") == 30 }
        server.signal(SIGHUP)
        SupervisorStatus.wait(pidfile: pidfile, "generation 2 alone") { $0.generationReady == 2 && $0.workers.count == 2 }
        guard let reloaded = MetricsPage.wait(port: metrics, "both reload restarts", until: { $0.restarts("reload") == 2 }) else { return }
        XCTAssertEqual(reloaded.requests("GET", "2xx"), 30, "the old generation's requests are kept")
        XCTAssertEqual(reloaded["supervisor_http_request_duration_seconds_count"], 30)
        XCTAssertEqual(reloaded.restarts("crash"), 1)
        XCTAssertEqual(reloaded["supervisor_generation"], 2)

        let status = try SupervisorStatus.read(pidfile: pidfile)
        XCTAssertEqual(status.master.restartReasons, ["crash": 1, "timeout": 0, "recycle": 0, "memory": 0, "reload": 2])
        XCTAssertEqual(status.master.listenQueues.map(\.addr), ["127.0.0.1:\(port)"])
        XCTAssertEqual(status.master.listenQueues.first?.length, 0)
        let table = try runCommand(["status", "--pidfile", pidfile])
        XCTAssertTrue(table.output.contains("restart crash 1, timeout 0, recycle 0, memory 0, reload 2"), table.output)
        XCTAssertTrue(table.output.contains("listen queue 127.0.0.1:\(port) 0"), table.output)
    }

    /// A binary upgrade: the new master joins the same metrics address and, once the old one is
    /// gone, answers alone, its counters from zero (they are the counts of the master's life).
    func testANewMasterAfterUSR2StartsFromZero() throws {
        let metricsPort = freeLoopbackPort()
        let (server, pidfile) = try start(metrics: "127.0.0.1:\(metricsPort)")
        defer { server.stop() }
        let port = server.port()
        try send(5, "GET", "/hello/a", port: port)
        let before = MetricsPage.wait(port: metricsPort, "5 requests") { $0.requests("GET", "2xx") == 5 }
        server.signal(SIGUSR2)
        server.waitForLog("msg=\"binary upgrade started\"")
        let newPID = Int(server.loggedPIDs("msg=\"binary upgrade started\"", field: " new_pid=").first ?? 0)
        server.waitForLog("msg=\"binary upgrade complete\"")
        XCTAssertEqual(server.waitForExit()?.code, 0, "the old master drains and exits")
        SupervisorStatus.wait(pidfile: pidfile, "the new master's generation ready") { $0.master.pid != Int(server.pid) && $0.generationReady == 1 }
        guard let after = try? MetricsPage.fetch(port: metricsPort) else { return XCTFail("no page from the new master") }
        XCTAssertEqual(after.requests("GET", "2xx"), 0, "a new master counts from zero")
        XCTAssertGreaterThan(after["supervisor_master_start_time_seconds"] ?? 0, (before?["supervisor_master_start_time_seconds"] ?? .infinity))
        XCTAssertNotEqual(newPID, 0)
        try send(3, "GET", "/hello/a", port: port)
        MetricsPage.wait(port: metricsPort, "the new master's 3 requests") { $0.requests("GET", "2xx") == 3 }
        _ = try runCommand(["stop", "--pidfile", pidfile])
    }

    func testAUnixMetricsSocketServesThePageAndGoesAwayWithTheMaster() throws {
        let directory = ServerProcess.temporaryDirectory()
        let path = directory + "/metrics.sock"
        let (server, pidfile) = try start(metrics: "unix:\(path)", workers: 1)
        defer { server.stop() }
        let response = try HTTPTestClient.get(try EchoClient(unixPath: path), "/metrics")
        XCTAssertEqual(response.status, 200, response.head)
        XCTAssertTrue(MetricsPage(text: response.text)["supervisor_workers{state=\"ready\"}"] == 1, response.text)
        XCTAssertEqual(try runCommand(["stop", "--pidfile", pidfile]).code, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "removed at exit")
    }

    /// A new release that dies after replacing the unix metrics socket (as a new master binds it
    /// at start): the old master, still serving, puts its own back.
    func testAFailedUpgradeGivesTheUnixMetricsSocketBackToTheOldMaster() throws {
        let directory = ServerProcess.temporaryDirectory()
        let binary = directory + "/supervisor"
        try FileManager.default.copyItem(atPath: ServerProcess.binary("supervisor"), toPath: binary)
        let path = directory + "/metrics.sock"
        let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0",
                                        "--metrics-bind", "unix:\(path)"], binaryPath: binary)
        defer { server.stop() }
        server.waitForReady(1)
        try FileManager.default.removeItem(atPath: binary)
        try "#!/bin/sh\nrm -f \(path)\n: > \(path)\nexit 1\n".write(toFile: binary, atomically: true, encoding: .utf8)
        chmod(binary, 0o755)
        server.signal(SIGUSR2)
        server.waitForLog("msg=\"binary upgrade failed: the new master exited; still serving\"")
        server.waitForLog("msg=\"metrics socket reclaimed from the failed new master\"")
        let response = try HTTPTestClient.get(try EchoClient(unixPath: path), "/metrics")
        XCTAssertEqual(response.status, 200, response.head)
        XCTAssertTrue(response.text.contains("supervisor_workers{state=\"ready\"} 1\n"), response.text)
    }

    func testAMetricsAddressThatCannotBeBoundRefusesToStart() throws {
        let taken = try EchoListener()
        let directory = ServerProcess.temporaryDirectory()
        for (address, expected) in [("127.0.0.1:\(taken.port)", "EADDRINUSE"), ("192.0.2.1:9100", "EADDRNOTAVAIL"),
                                    ("unix:\(directory)/missing/metrics.sock", "ENOENT")] {
            let server = try ServerProcess(["start", "--workers", "1", "--bind", "127.0.0.1:0", "--health-interval", "0", "--metrics-bind", address])
            defer { server.stop() }
            XCTAssertEqual(try XCTUnwrap(server.waitForExit()).code, 1, server.log)
            let line = server.lines(containing: "msg=\"cannot serve metrics\"").first ?? ""
            XCTAssertTrue(line.contains("level=error") && line.contains(expected), "\(address): \(server.log)")
            XCTAssertTrue(server.lines(containing: "worker spawned").isEmpty, "nothing started: \(server.log)")
        }
        let garbage = try ServerProcess(["start", "--metrics-bind", "nowhere"])
        defer { garbage.stop() }
        XCTAssertEqual(try XCTUnwrap(garbage.waitForExit()).code, 2, garbage.log)
        XCTAssertTrue(garbage.log.contains("--metrics-bind"), garbage.log)
    }
}

/// A scraper gone wrong: a thousand connections at once, half of them garbage, half a head that
/// never ends. The master takes them in slices, never waits on one, and drops each at its
/// deadline; meanwhile control commands answer and every worker's heartbeat stays fresh.
final class MetricsFloodTests: XCTestCase {
    func testAThousandConnectionsAndGarbageLeaveTheMasterResponsive() throws {
        let directory = ServerProcess.temporaryDirectory()
        let pidfile = directory + "/supervisor.pid"
        let server = try ServerProcess(["start", "--workers", "2", "--bind", "127.0.0.1:0", "--health-interval", "0",
                                        "--pidfile", pidfile, "--metrics-bind", "127.0.0.1:0", "--timeout", "5"])
        defer { server.stop() }
        SupervisorStatus.wait(pidfile: pidfile, "generation 1 ready") { $0.generationReady == 1 }
        let metrics = server.metricsPort()
        let workers = Set(server.workerPIDs)

        let flood = Thread.detachNewFloodThread(port: metrics, connections: 1000)
        // While the flood runs: status answers each time, and heartbeats keep coming.
        var answered = 0
        var slowest = 0.0
        while !flood.isDone() || answered < 10 {
            let began = Date()
            let status = try SupervisorStatus.read(pidfile: pidfile)
            slowest = max(slowest, Date().timeIntervalSince(began))
            answered += 1
            XCTAssertTrue(status.workers.allSatisfy { $0.lastHeartbeatMs < 4000 }, "a worker's heartbeat went stale: \(status.workers)")
            if answered > 500 { break }
        }
        XCTAssertGreaterThanOrEqual(answered, 10)
        // Generous: a master that waited on the flood's clients would take their 2 s deadline each.
        XCTAssertLessThan(slowest, 5, "a status took \(slowest) s during the flood")
        XCTAssertGreaterThan(flood.opened(), 500, "the flood did connect")
        XCTAssertEqual(Set(server.workerPIDs), workers, "no worker was replaced")
        XCTAssertTrue(server.lines(containing: "reason=timeout").isEmpty, server.log)
        // And a real scrape is served once the flood is gone.
        MetricsPage.wait(port: metrics, "a page after the flood") { $0["supervisor_workers{state=\"ready\"}"] == 2 }
    }
}

/// The flood, on its own thread: opens `connections` sockets (every other one sends garbage, the
/// rest a head that never ends), holds them until the master has dropped them, then closes.
final class FloodThread: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private var connected = 0

    func isDone() -> Bool { lock.withLock { done } }
    func opened() -> Int { lock.withLock { connected } }

    fileprivate func run(port: UInt16, connections: Int) {
        var clients: [EchoClient] = []
        for index in 0..<connections {
            guard let client = try? EchoClient(port: port, timeout: 3) else { continue }
            _ = try? client.send(index % 2 == 0 ? "\u{1}\u{2}garbage \r\n\r\n" : "GET /metrics HTTP/1.1\r\nHost: x\r\n")
            clients.append(client)
            lock.withLock { connected += 1 }
        }
        // Each is closed by the master (its deadline, a refusal, or over the cap); wait for that.
        for client in clients { _ = client.isClosedByPeer() }
        lock.withLock { done = true }
    }
}

extension Thread {
    static func detachNewFloodThread(port: UInt16, connections: Int) -> FloodThread {
        let flood = FloodThread()
        Thread.detachNewThread { flood.run(port: port, connections: connections) }
        return flood
    }
}
