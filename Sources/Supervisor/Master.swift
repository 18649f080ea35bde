import Channel
import Logging
import Posix
import Settings

/// The master process: binds, forks, supervises, and stops.
///
/// Single-threaded and synchronous, by design (see DESIGN.md): it never starts a thread, so every
/// `fork` copies a process whose only thread is the one forking. Signals are blocked and read from a
/// signalfd, so no code ever runs in signal context. Each turn of the loop does, in this order:
/// reap → shutdown → reload → reopen logs → scale → timeouts and respawns → health → memory. The verbs live
/// beside it: `Master+Stop` (stop, rotation), `Master+Reload` (HUP, USR1, TTIN/TTOU),
/// `Master+Spawn` (the table's actions, with `HangReport` before a timeout's kill), `Master+Memory`
/// (`--max-worker-memory`), `Master+Control` (the control socket), `BinaryUpgrade` (USR2).
/// Its decisions are values it feeds events and whose actions it carries out: `WorkerTable` (the
/// workers) and `UpgradeLifecycle` (a binary upgrade); `WorkerRecords` holds what each worker owns.
public final class Master {
    /// Runs in the forked child, with the configuration of the worker's generation; never returns.
    public typealias WorkerMain = (WorkerLaunch, Configuration) -> Never
    /// Reads the configuration again (the file, then the same flags on top), for SIGHUP.
    public typealias ConfigurationLoader = () throws(UsageError) -> Configuration

    /// The configuration in force: the one new workers are started with. A reload replaces it.
    var config: Configuration
    var logger: Logger
    let workerMain: WorkerMain
    let loadConfiguration: ConfigurationLoader?
    let startedAt = Instant.now
    /// The same instant on the wall clock, for `supervisor_master_start_time_seconds`.
    let startedAtWallClock = WallClock.preciseSeconds
    /// `--metrics-bind`'s server, and the totals it publishes (departed workers' included).
    var metrics: MetricsServer?
    var traffic = TrafficTotals()
    /// A start, reload or upgrade whose generation is not yet fully serving: logged (and told to
    /// systemd) once it is.
    var settling: (cause: String, since: Instant)?
    var table: WorkerTable
    var listeners = Listeners()
    /// Each live worker's channel and shared-counter seat.
    var records = WorkerRecords(shared: nil)
    var signals: SignalDescriptor?
    var pidfile: Pidfile?
    var health: HealthReporter
    /// `--max-worker-memory`'s checks.
    var memoryWatch = MemoryWatch()
    var exitCode: CInt?
    /// `supervisor status|reload|stop|scale` connect here (beside the pidfile; none without one).
    var control: ControlServer?
    /// Sockets passed by systemd or by the old master of a binary upgrade, adopted at start.
    let inherited: [InheritedSocket]
    /// The program file and arguments a binary upgrade runs (nil: upgrades are refused).
    let executable: (path: String, arguments: [String])?
    /// Binary upgrades: the one this master may be taking over from, the one it may be starting.
    var upgrade: UpgradeLifecycle
    /// The listeners refuse new connections: this master is stopping.
    var stopAdmitting = false
    /// Out of the load balancer's rotation (`supervisor drain`, or a stop's `--shutdown-delay`):
    /// every worker's health check answers 503 while requests are still served.
    var outOfRotation = false
    /// A stop waiting out `--shutdown-delay`, out of rotation, before its drain begins.
    var delayedStop: Instant?
    /// A graceful stop whose listeners refuse new connections, waiting until this instant at most
    /// for the handshakes under way on them to land in their queues before the workers drain.
    var handshakeWait: Instant?
    /// A reload whose removed addresses refuse new connections, waiting until `limit` at most for
    /// the handshakes under way on their `ports` to land where the old workers still accept them;
    /// then the new generation starts (with `workers`, the count the reload asked for).
    var pendingReload: (limit: Instant, ports: Set<UInt16>, workers: Int?)?
    /// systemd's notification socket, when run as a `Type=notify` service.
    let notifier: ServiceNotifier?
    /// Shared-counter seats: enough for the largest worker count twice over (a reload runs two
    /// generations) and workers still draining from earlier reloads.
    static let seatCount = 4096

    /// The signals the master handles; all are blocked and read from the signalfd.
    static let handledSignals: [Signal] = [.interrupt, .terminate, .quit, .hangup, .user1, .user2, .ttyInput, .ttyOutput, .child]

    /// `config.binds` must be resolved (an app's default address filled in) by the caller, and so
    /// must the configurations `loadConfiguration` returns.
    public init(config: Configuration, logger: Logger, loadConfiguration: ConfigurationLoader? = nil,
                inherited: [InheritedSocket] = [], origin: BinaryUpgrade.Origin? = nil,
                executable: (path: String, arguments: [String])? = nil, notifier: ServiceNotifier? = nil,
                workerMain: @escaping WorkerMain) {
        self.config = config
        self.logger = logger
        self.loadConfiguration = loadConfiguration
        self.inherited = inherited
        upgrade = UpgradeLifecycle(origin: origin)
        self.executable = executable
        self.notifier = notifier
        self.workerMain = workerMain
        table = WorkerTable(workers: config.workers, policy: .init(timeout: config.timeout, gracefulTimeout: config.gracefulTimeout))
        outOfRotation = origin?.outOfRotation ?? false
        health = HealthReporter(interval: config.healthInterval, now: .now)
        health.connectionLimit = config.workerConnections
    }

    /// Runs until shutdown; returns the process exit code.
    public func run() -> CInt {
        if let path = config.logFile {
            do {
                try LogFile.redirectStandardError(to: path)
            } catch {
                logger.error("cannot open log file", ("error", LogValue(error)))
                return 1
            }
        }
        do {
            try SignalSet(Self.handledSignals).block()
            SignalDisposition.ignore([.pipe])
            signals = try SignalDescriptor(SignalSet(Self.handledSignals))
        } catch {
            logger.error("cannot set up signal handling", ("error", LogValue(error)))
            return 1
        }
        do {
            records = WorkerRecords(shared: try SharedCounters(seats: Self.seatCount))
        } catch {
            logger.error("cannot map shared counters", ("error", LogValue(error)))
            return 1
        }
        // Logged once the fallible steps are past: a start that fails prints its error first.
        let openFileLimit = try? ResourceLimits.raiseOpenFilesToHardLimit()
        if let path = config.pidfile {
            let pidfile = Pidfile(path: path)
            // Before binding and before the control socket (which goes beside it): a missing or
            // read-only directory is reported as the pidfile's, a path too long for the socket too.
            do {
                try pidfile.checkDirectory()
            } catch {
                logger.error("cannot write pidfile", ("error", LogValue(error)))
                return 1
            }
            do {
                try ControlServer.checkPath(ControlCommand.socketPath(forPidfile: path))
            } catch {
                logger.error("cannot create the control socket", ("error", LogValue(error)))
                return 1
            }
            // During a binary upgrade the file names the old master, which is expected to be alive.
            if upgrade.origin == nil || pidfile.read() != upgrade.origin?.oldPID {
                do {
                    try pidfile.checkNotRunning()
                } catch {
                    logger.error("refusing to start", ("error", LogValue(error)))
                    return 1
                }
            }
            self.pidfile = pidfile
        }
        do {
            let unused: [InheritedSocket]
            (listeners, unused) = try Listeners.open(config.binds, backlog: config.backlog, sharing: config.sharePort, adopting: inherited)
            for socket in unused {
                logger.warn("closing an inherited socket no bind asks for", ("addr", .string(socket.address?.description ?? "unknown")),
                            ("name", .string(socket.name ?? "")))
                socket.fd.close()
            }
        } catch {
            logger.error("cannot listen", ("error", LogValue(error)))
            return 1
        }
        for listener in listeners.all {
            logger.info("listening", ("addr", LogValue(listener.bound)), ("inherited", listener.ownsFile ? "no" : "yes"))
        }
        guard openMetrics() else {
            listeners.closeAll()
            return 1
        }
        if upgrade.origin == nil, let path = config.pidfile {
            let socketPath = ControlCommand.socketPath(forPidfile: path)
            do {
                control = try ControlServer(path: socketPath)
            } catch {
                logger.error("cannot create the control socket", ("error", LogValue(error)))
                listeners.closeAll()
                metrics?.close()
                return 1
            }
        }
        if upgrade.origin == nil, let pidfile {
            do {
                try pidfile.write()
            } catch {
                logger.error("cannot write pidfile", ("error", LogValue(error)))
                listeners.closeAll()
                control?.close()
                metrics?.close()
                return 1
            }
        }
        if let openFileLimit { logger.info("open file limit", ("nofile", LogValue(openFileLimit))) }
        var started: [(String, LogValue)] = [("pid", LogValue(Process.id)), ("workers", LogValue(config.workers)), ("app", .string(config.app))]
        if !config.workersGiven { started.append(("workers_from", .string(CPUBudget.current.description))) }
        logger.log(.info, "master started", started)
        if outOfRotation { logger.info("out of rotation", ("by", "binary upgrade from a drained master")) }
        settling = (upgrade.origin == nil ? "start" : "upgrade", startedAt)
        perform(table.tick(now: .now))
        while exitCode == nil { turn() }
        // A failed or cancelled new master that has not exited yet must not outlive us.
        if let pid = upgrade.unfinishedChild, !Process.hasExited(pid) {
            try? Process.signal(pid, .kill)
        }
        listeners.closeAll(removingFiles: upgrade.isInCharge)
        records.releaseAll()
        control?.close()
        metrics?.close()
        pidfile?.remove()
        let code = exitCode ?? 1
        logger.info("master exiting", ("code", LogValue(code)))
        return code
    }

    // MARK: The loop

    private func turn() {
        var watched = [signals?.fd].compactMap { $0 }
        watched += records.channels.map(\.channel)
        watched += control?.descriptors ?? []
        watched += metrics?.readDescriptors ?? []
        if let pipe = upgrade.readyPipe { watched.append(pipe) }
        let deadlines = [table.nextDeadline, health.nextAt, memoryWatch.nextAt, control?.nextDeadline, metrics?.nextDeadline,
                         upgrade.nextDeadline, delayedStop, (handshakeWait ?? pendingReload?.limit).map { _ in Instant.now + Self.handshakeCheckInterval }].compactMap { $0 }
        let timeout = deadlines.min().map { $0.since(.now) }
        let readable: [FileDescriptor]
        let writable: [FileDescriptor]
        do {
            (readable, writable) = try Poll.wait(readable: watched, writable: metrics?.writeDescriptors ?? [], timeout: timeout)
        } catch {
            logger.error("master poll failed", ("error", LogValue(error)))
            (readable, writable) = ([], [])
        }
        let pending = (try? signals?.drain()) ?? []

        reapChildren()
        let readableSet = Set(readable)
        for (pid, channel) in records.channels where readableSet.contains(channel) {
            readChannel(of: pid)
        }

        let now = Instant.now
        if let stop = pending.last(where: { [.interrupt, .terminate, .quit].contains($0) }) {
            requestStop(stop == .quit ? .fast : .graceful, by: ("signal", .string(stop.name)), now: now)
        }
        if let due = delayedStop, now >= due {
            delayedStop = nil
            logger.info("shutting down", ("after", "shutdown-delay"), ("mode", "graceful"))
            shutdown(.graceful, now: now)
        }
        drainOnceHandshakesLand(now: now)
        reloadOnceHandshakesLand(now: now)
        if pending.contains(.hangup) { reload(now: now) }
        control?.serve(readable: readableSet, now: now) { answer($0) }
        metrics?.serve(readable: readableSet, writable: Set(writable), now: now) { metricsSnapshot().text() }
        if pending.contains(.user1) { reopenLogs() }
        if let pipe = upgrade.readyPipe, readableSet.contains(pipe) { readUpgradePipe(pipe, now: now) }
        perform(upgrade.tick(now: now), now: now)
        if pending.contains(.user2) { startUpgrade(now: now) }
        let scaleBy = pending.filter { $0 == .ttyInput }.count - pending.filter { $0 == .ttyOutput }.count
        if scaleBy != 0 { scale(by: scaleBy, now: now) }
        perform(table.tick(now: .now))
        announceIfSettled()
        if health.reportIfDue(table, now: .now, logger: logger) { notify { (notifier) throws(SystemError) in try notifier.status(statusLine()) } }
        checkMemoryIfDue(now: .now)
    }

    /// Once a start or reload has fully taken effect: one line saying so, with the time it took,
    /// and READY=1 for systemd. A new master of a binary upgrade takes over only now.
    private func announceIfSettled() {
        guard let current = settling, pendingReload == nil, table.isSettled else { return }
        settling = nil
        logger.info("generation ready", ("generation", LogValue(table.generation)), ("workers", LogValue(table.desired)),
                    ("elapsed_ms", LogValue(Instant.now.since(current.since).milliseconds)), ("cause", .string(current.cause)))
        // A new master of a binary upgrade becomes the main pid, even if a reload overtook its start.
        let upgraded = upgrade.origin != nil
        perform(upgrade.settled(), now: .now)
        notify { (notifier) throws(SystemError) in try notifier.ready(status: statusLine(), mainPID: upgraded ? Process.id : nil) }
    }

    private func reapChildren() {
        while true {
            let child: (pid: ProcessID, status: ExitStatus)?
            do { child = try Process.reapAny() } catch {
                logger.error("waitpid failed", ("error", LogValue(error)))
                return
            }
            guard let child else { return }
            if let actions = upgrade.reaped(pid: child.pid, status: child.status) {
                perform(actions, now: .now)
                continue
            }
            // Its last heartbeat, sent as it exited, before the channel closes with the record.
            readChannel(of: child.pid)
            records.release(child.pid)
            guard table.workers[child.pid] != nil else {
                // As PID 1 (a container), orphans anywhere in the namespace are re-parented to us.
                logger.info("reaped a process that was not a worker", ("pid", LogValue(child.pid)), ("status", LogValue(child.status)))
                continue
            }
            let (report, actions) = table.reaped(pid: child.pid, status: child.status, now: .now)
            if let report {
                foldDeparted(report.worker)
                logExit(report)
            }
            perform(actions)
        }
    }

    private func logExit(_ report: WorkerTable.ExitReport) {
        var fields: [(String, LogValue)] = [
            ("pid", LogValue(report.worker.pid)), ("slot", LogValue(report.worker.slot)),
            ("generation", LogValue(report.worker.generation)), ("status", LogValue(report.status)),
            ("uptime_s", .string(Instant.now.since(report.worker.spawnedAt).secondsText)),
        ]
        let level: Logger.Level
        switch report.cause {
        case .retired:
            fields.append(("reason", "retired"))
            level = .info
        case let .killed(reason):
            fields.append(("reason", .string(reason.rawValue)))
            level = .warn
        case .crashed:
            fields.append(("reason", "crashed"))
            level = .warn
        case .bootFailure:
            fields.append(("reason", "boot-failure"))
            level = .error
        }
        if report.crashStreak > 0 { fields.append(("crash_streak", LogValue(report.crashStreak))) }
        if let delay = report.respawnDelay { fields.append(("respawn_in_s", .string(delay.secondsText))) }
        logger.log(level, "worker exited", fields)
        if report.cause == .bootFailure, case .stopping = table.phase {
            logger.error("a worker failed to boot before any was ready; stopping instead of retrying",
                         ("pid", LogValue(report.worker.pid)), ("status", LogValue(report.status)))
        }
    }

    private func readChannel(of pid: ProcessID) {
        guard let channel = records.channel(of: pid) else { return }
        while true {
            let result: ChannelIO.ReceiveResult
            do { result = try ChannelIO.receive(on: channel) } catch {
                return
            }
            switch result {
            case .empty, .closed:
                return
            case .malformed:
                logger.warn("malformed channel message", ("pid", LogValue(pid)))
            case .message(.ready):
                if let worker = table.workers[pid] {
                    logger.info("worker ready", ("pid", LogValue(pid)), ("slot", LogValue(worker.slot)),
                                ("generation", LogValue(worker.generation)),
                                ("boot_ms", LogValue(Instant.now.since(worker.spawnedAt).milliseconds)))
                }
                perform(table.ready(pid: pid, now: .now))
            case let .message(.heartbeat(stats)):
                table.heartbeat(pid: pid, stats: stats, now: .now)
                observeRate(now: .now)
            case .message(.recycle):
                if let worker = table.workers[pid], worker.isServing, !worker.recycling {
                    logger.info("recycling worker", ("pid", LogValue(pid)), ("slot", LogValue(worker.slot)), ("reason", "max-requests"))
                    perform(table.recycle(pid: pid, now: .now))
                }
            case .message(.stackReport):
                // Late: the bounded wait for it (HangReport) was over, and the worker is being killed.
                continue
            case .message(.quit), .message(.reopenLogs), .message(.rotation):
                logger.warn("unexpected channel message from worker", ("pid", LogValue(pid)))
            }
        }
    }
}
