import Channel
import Logging
import Posix
import Settings

/// Changes while serving: HUP (the configuration read again, a new generation), USR1 (logs
/// reopened), TTIN/TTOU (the worker count).
extension Master {
    /// Why a reload did not happen; the running configuration and workers stay as they were.
    public struct ReloadRefused: Error, CustomStringConvertible {
        public let description: String
    }

    /// HUP (or `supervisor reload`): read the configuration again and, if it is valid, start a new
    /// generation of workers with it. Returns the new generation.
    @discardableResult
    func reload(now: Instant) -> Result<Int, ReloadRefused> {
        guard isServing else {
            logger.warn("reload ignored: shutting down")
            return .failure(ReloadRefused(description: "the master is shutting down"))
        }
        var workers: Int?
        var removedPorts: Set<UInt16> = []
        if let loadConfiguration {
            let fresh: Configuration
            do {
                fresh = try loadConfiguration()
            } catch {
                logger.error("reload rejected: the configuration is invalid; the running one stays in force", ("error", .string(error.message)))
                return .failure(ReloadRefused(description: error.message))
            }
            switch apply(fresh) {
            case let .success(removed): removedPorts = Set(removed.compactMap(\.bound.port))
            case let .failure(refusal): return .failure(refusal)
            }
            workers = config.workers
        }
        if pendingReload == nil { settling = ("reload", now) }  // else: since the first of them
        let generation = table.generation + 1
        notify { (notifier) throws(SystemError) in try notifier.reloading(status: "reloading: generation \(generation)") }
        // A removed address refuses new connections now, but a handshake under way on it still
        // lands in its queue, up to a round trip from now; the old workers, who hold the socket,
        // must still be accepting then, or it is reset when the last of them closes it. So the
        // new generation (whose readiness retires them) waits for those handshakes, as a stop does.
        // A reload during the wait joins it, and extends it only for handshakes of its own.
        let underWay = removedPorts.isEmpty ? 0 : handshakesUnderWay(onPorts: removedPorts)
        if underWay > 0 || pendingReload != nil {
            let waiting = pendingReload?.limit ?? now
            let limit = underWay > 0 ? max(waiting, now + Self.handshakeWaitLimit) : waiting
            pendingReload = (limit: limit, ports: removedPorts.union(pendingReload?.ports ?? []), workers: workers)
            if underWay > 0 {
                logger.info("reloading once the handshakes under way on removed addresses land", ("handshakes", LogValue(underWay)),
                            ("at_most_s", .string(Self.handshakeWaitLimit.secondsText)))
            }
            return .success(generation)
        }
        startGeneration(workers: workers, now: now)
        return .success(generation)
    }

    /// The reload proper: a new generation, each old worker retiring once its successor is ready.
    private func startGeneration(workers: Int?, now: Instant) {
        let actions = table.reload(now: now, workers: workers)
        logger.info("reloading: replacing every worker", ("generation", LogValue(table.generation)), ("workers", LogValue(table.desired)))
        perform(actions)
    }

    /// During a reload's wait for handshakes on removed addresses: the new generation starts once
    /// none is under way, or at the wait's limit. A stop that came meanwhile drains instead.
    func reloadOnceHandshakesLand(now: Instant) {
        guard let pending = pendingReload else { return }
        let underWay = handshakesUnderWay(onPorts: pending.ports)
        guard underWay == 0 || now >= pending.limit else { return }
        pendingReload = nil
        guard isServing else { return }
        if underWay > 0 {
            logger.warn("handshakes still under way on removed addresses at the wait's limit; reloading without them", ("handshakes", LogValue(underWay)))
        }
        startGeneration(workers: pending.workers, now: now)
    }

    /// Makes `fresh` the configuration in force: binds added addresses (or refuses the whole
    /// reload if one cannot be bound), takes out removed ones (returned, their master's copy
    /// closed), and updates what the master itself uses. Everything else reaches the workers by
    /// their being started with it.
    private func apply(_ fresh: Configuration) -> Result<[Listeners.Listener], ReloadRefused> {
        var fresh = fresh
        if fresh.pidfile != config.pidfile {
            logger.warn("a new pidfile takes effect at the next start or binary upgrade", ("pidfile", .string(config.pidfile ?? "none")))
            fresh.pidfile = config.pidfile
        }
        if fresh.metricsBind != config.metricsBind {
            logger.warn("a new metrics-bind takes effect at the next start or binary upgrade",
                        ("metrics_bind", .string(config.metricsBind?.description ?? "none")))
            fresh.metricsBind = config.metricsBind
        }
        // Everything that can refuse the reload comes first, so that a refusal changes nothing.
        var newLog: FileDescriptor?
        if fresh.logFile != config.logFile, let path = fresh.logFile {
            do {
                newLog = try LogFile.open(path)
            } catch {
                logger.error("reload rejected: cannot open the new log file", ("error", LogValue(error)))
                return .failure(ReloadRefused(description: "cannot open log file: \(error)"))
            }
        }
        defer { newLog?.close() }
        let change: (added: [Listeners.Listener], removed: [Listeners.Listener])
        do {
            change = try listeners.update(to: fresh.binds, backlog: fresh.backlog, sharing: fresh.sharePort)
        } catch {
            logger.error("reload rejected: cannot listen on a new address; the running configuration stays in force", ("error", LogValue(error)))
            return .failure(ReloadRefused(description: "cannot listen: \(error)"))
        }
        if let newLog {
            do {
                try LogFile.install(newLog)
            } catch {
                logger.error("cannot switch to the new log file; still writing to the old one", ("error", LogValue(error)))
            }
        }
        for listener in change.added { logger.info("listening", ("addr", LogValue(listener.bound))) }
        // Old workers hold their own copies and accept until they drain, taking what is queued then.
        for failure in Listeners.refuseNewConnections(change.removed) {
            logger.warn("cannot stop new connections to a removed address", ("error", LogValue(failure)))
        }
        for listener in change.removed {
            logger.info("no longer listening", ("addr", LogValue(listener.bound)))
            Listeners.close(listener)
        }
        table.policy.timeout = fresh.timeout
        table.policy.gracefulTimeout = fresh.gracefulTimeout
        if fresh.healthInterval != config.healthInterval { health = HealthReporter(interval: fresh.healthInterval, now: .now) }
        health.connectionLimit = fresh.workerConnections
        logger.format = Logger.Format(fresh.logFormat)
        config = fresh
        return .success(change.removed)
    }

    func reopenLogs() {
        LogFile.reopen(config.logFile, logger: logger)
        logger.info("reopening logs", ("signal", "USR1"))
        for (_, channel) in records.channels { _ = try? ChannelIO.send(.reopenLogs, on: channel) }
    }

    /// TTIN/TTOU or `supervisor scale`. Returns why it was refused, or nil when it is under way.
    @discardableResult
    func scale(by delta: Int, now: Instant) -> String? {
        let before = table.desired
        guard let actions = table.scale(by: delta, now: now) else {
            let reason = before + delta < 1 ? "at least one worker must remain"
                : before + delta > Configuration.maximumWorkers ? "at most \(Configuration.maximumWorkers) workers" : "the master is shutting down"
            logger.warn("scale refused", ("from", LogValue(before)), ("by", LogValue(delta)), ("reason", .string(reason)))
            return reason
        }
        logger.info("scaling", ("from", LogValue(before)), ("to", LogValue(table.desired)))
        perform(actions)
        return nil
    }
}
